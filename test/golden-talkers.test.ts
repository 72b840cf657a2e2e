// The Talkers against PyTorch (tools/golden/gen_golden.py --talkers, whose forward is
// python/jepa_torch/model.py): a Mono-Talker with an input projection and attnScale, and a
// Dual-Talker with the learnable-temperature QK-Norm in self- and cross-attention; logits,
// cross-entropy and every parameter's gradient. CI does not need PyTorch for this one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { crossEntropy } from "../src/engine/ops/loss.js";
import { Rng } from "../src/engine/rng.js";
import { parseSafetensors, toFloat32, toInt32 } from "../src/engine/safetensors.js";
import { DualTalker } from "../src/model/dual-talker.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import { testBackends } from "./helpers/backends.js";
import { relMaxError } from "./helpers/rel-error.js";

const fixture = parseSafetensors(new Uint8Array(readFileSync(new URL("../../test/fixtures/golden-talkers.safetensors", import.meta.url))));
const configs = JSON.parse(fixture.metadata.talkers) as Record<"mono" | "dual", TalkerConfig>;
const entry = (name: string) => {
  const e = fixture.tensors.get(name);
  if (!e) throw new Error(`fixture lacks ${name}`);
  return e;
};
const f32 = (name: string) => toFloat32(entry(name));

// Relative to each tensor's largest magnitude, as in golden.test.ts (float32 on both sides).
const TOL = { logits: 1e-5, loss: 1e-5, grad: 5e-5 };

for (const backend of await testBackends()) {
  describe(`golden Talkers on ${backend}`, () => {
    let engine: Engine;
    before(async () => {
      engine = await createNodeEngine({ threads: 2, memoryMB: 128, backend });
    });
    after(async () => {
      await engine.close();
    });

    for (const kind of ["mono", "dual"] as const) {
      test(`${kind}: logits, loss and every parameter gradient match PyTorch`, () => {
        const config = configs[kind];
        const talker = kind === "mono" ? new MonoTalker(engine, config, new Rng(0)) : new DualTalker(engine, config, new Rng(0));
        assert.deepEqual(talker.params.names().sort(), [...fixture.tensors.keys()].filter((n) => n.startsWith(`${kind}.param.`)).map((n) => n.slice(`${kind}.param.`.length)).sort());
        for (const name of talker.params.names()) talker.params.load(name, f32(`${kind}.param.${name}`));
        const [S, L] = entry("input.latents").shape;
        const latents = engine.fromArray(f32("input.latents"), [1, S, L]);
        const tokens = engine.fromArray(toInt32(entry("input.decoder_tokens")), [1, S], { dtype: "i32" });
        const targets = engine.fromArray(toInt32(entry("input.targets")), [S], { dtype: "i32" });
        const logits = kind === "mono" ? (talker as MonoTalker).logits(latents) : (talker as DualTalker).decode(tokens, (talker as DualTalker).encode(latents));
        const err = relMaxError(logits.toArray(), f32(`${kind}.logits`));
        assert.ok(err <= TOL.logits, `logits: relative error ${err.toExponential(2)}`);
        const loss = crossEntropy(logits.reshape([S, -1]), targets);
        const want = f32(`${kind}.loss`)[0];
        assert.ok(Math.abs(loss.item() - want) <= TOL.loss * Math.abs(want), `loss ${loss.item()} vs ${want}`);
        engine.backward(loss);
        for (const p of talker.params.list()) {
          const gradErr = relMaxError(p.grad!.toArray(), f32(`${kind}.grad.${p.name}`));
          assert.ok(gradErr <= TOL.grad, `grad ${p.name}: relative error ${gradErr.toExponential(2)}`);
        }
        engine.endStep();
      });
    }
  });
}
