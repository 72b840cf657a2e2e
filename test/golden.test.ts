// The llm.c-style golden test: a small GPT of our architecture, checked against values that
// PyTorch computed (tools/golden/gen_golden.py): logits, loss, every parameter gradient, 10
// AdamW steps with clipping, and the latent path (L2 output, scaled cosine loss gradients).
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { parseSafetensors, toFloat32, toInt32, type TensorEntry } from "../src/engine/safetensors.js";
import { TransformerLM } from "../src/model/transformer.js";
import type { TransformerConfig } from "../src/model/config.js";
import { Rng } from "../src/engine/rng.js";
import { AdamW, clipFactor, gradNorm } from "../src/engine/optim.js";
import { l2Normalize } from "../src/engine/ops/norm.js";
import { embedding } from "../src/engine/ops/embedding.js";
import { cosineLoss } from "../src/engine/ops/loss.js";
import { testBackends } from "./helpers/backends.js";
import { relMaxError } from "./helpers/rel-error.js";

const fixture = parseSafetensors(new Uint8Array(readFileSync(new URL("../../test/fixtures/golden-gpt.safetensors", import.meta.url))));
const meta = JSON.parse(fixture.metadata.config) as TransformerConfig & { batch: number; seq: number };
const adamw = JSON.parse(fixture.metadata.adamw) as { lr: number; betas: [number, number]; eps: number; weightDecay: number; clip: number; steps: number; cosineK: number };
const entry = (name: string): TensorEntry => {
  const e = fixture.tensors.get(name);
  if (!e) throw new Error(`fixture lacks ${name}`);
  return e;
};
const f32 = (name: string) => toFloat32(entry(name));

// Tolerances, relative to each tensor's largest magnitude. PyTorch's own float32-vs-float64
// gap is ~1e-6 here (the fixture's "precision" metadata) and we measure ~4e-7 on logits and
// ~1e-6 on gradients, so these leave a 10x margin; AdamW divides by sqrt(v), which amplifies
// last-bit differences in tiny gradients, hence the looser bound on the final weights.
const TOL = { logits: 5e-6, loss: 5e-6, grad: 2e-5, adamLoss: 2e-5, after: 2e-4, latent: 5e-6 };

for (const backend of await testBackends()) {
  describe(`golden GPT on ${backend}`, () => {
    let engine: Engine;
    let model: TransformerLM;
    let tokens: ReturnType<Engine["fromArray"]>;
    let targets: ReturnType<Engine["fromArray"]>;

    before(async () => {
      engine = await createNodeEngine({ threads: 2, memoryMB: 128, backend });
      model = new TransformerLM(engine, meta, new Rng(0));
      for (const name of model.params.names()) model.params.load(name, f32(`param.${name}`));
      tokens = engine.fromArray(toInt32(entry("input.tokens")), [meta.batch, meta.seq], { dtype: "i32", persistent: true });
      targets = engine.fromArray(toInt32(entry("input.targets")), [meta.batch, meta.seq], { dtype: "i32", persistent: true });
    });
    after(async () => {
      await engine.close();
    });

    /** The worst relative error per kind of check in the running test, printed as its diagnostics by reportWorst. */
    const worst = new Map<string, number>();

    function reportWorst(t: { diagnostic(message: string): void }): void {
      for (const [kind, err] of worst) t.diagnostic(`worst relative error, ${kind}: ${err.toExponential(2)}`);
      worst.clear();
    }
    // A test that failed part-way leaves its errors behind; each test reports only its own.
    beforeEach(() => worst.clear());

    function assertClose(name: string, got: Float32Array, want: Float32Array, tol: number): void {
      const err = relMaxError(got, want);
      const kind = name.split(" ")[0];
      worst.set(kind, Math.max(worst.get(kind) ?? 0, err));
      assert.ok(err <= tol, `${name}: relative max error ${err.toExponential(2)} > ${tol}`);
    }

    function zeroGrads(): void {
      for (const p of model.params.list()) engine.fill(p.grad!.ptr, p.size, 0);
    }

    test("logits and loss match PyTorch", (t) => {
      const logits = model.logits(tokens);
      assertClose("logits", logits.toArray(), f32("logits"), TOL.logits);
      const loss = model.loss(tokens, targets);
      assert.ok(Math.abs(loss.item() - f32("loss")[0]) <= TOL.loss * Math.abs(f32("loss")[0]), `loss ${loss.item()} vs ${f32("loss")[0]}`);
      engine.endStep();
      reportWorst(t);
    });

    test("every parameter gradient matches PyTorch", (t) => {
      zeroGrads();
      engine.backward(model.loss(tokens, targets));
      for (const p of model.params.list()) assertClose(`grad ${p.name}`, p.grad!.toArray(), f32(`grad.${p.name}`), TOL.grad);
      engine.endStep();
      zeroGrads();
      reportWorst(t);
    });

    test("latent output and scaled cosine loss gradients match PyTorch", (ctx) => {
      const k = adamw.cosineK;
      const t = toInt32(entry("input.targets"));
      for (const detached of [false, true]) {
        const mask = engine.fromArray(Float32Array.from(t, (v) => (v >= 0 ? 1 : 0)), [t.length]);
        const safeTargets = engine.fromArray(Int32Array.from(t, (v) => Math.max(v, 0)), [t.length], { dtype: "i32" });
        zeroGrads();
        const latent = l2Normalize(model.hidden(tokens));
        if (!detached) assertClose("latent", latent.toArray(), f32("latent.out"), TOL.latent);
        const wte = model.params.get("wte.weight");
        const table = detached ? engine.noGrad(() => engine.fromArray(wte.toArray(), wte.shape)) : wte;
        const loss = cosineLoss(latent.reshape([-1, meta.dModel]), embedding(table, safeTargets), mask, k);
        assert.ok(Math.abs(loss.item() - f32("cosine.loss")[0]) <= TOL.loss * 10, `cosine loss ${loss.item()} vs ${f32("cosine.loss")[0]}`);
        engine.backward(loss);
        if (detached) assertClose("cosgrad_detached wte", wte.grad!.toArray(), f32("cosgrad_detached.wte.weight"), TOL.grad);
        else for (const p of model.params.list()) assertClose(`cosgrad ${p.name}`, p.grad!.toArray(), f32(`cosgrad.${p.name}`), TOL.grad);
        engine.endStep();
      }
      zeroGrads();
      reportWorst(ctx);
    });

    test("10 AdamW steps with clipping follow PyTorch's losses and end at its weights", (t) => {
      const params = model.params.list();
      const opt = new AdamW(engine, params, { lr: adamw.lr, beta1: adamw.betas[0], beta2: adamw.betas[1], eps: adamw.eps, weightDecay: adamw.weightDecay });
      const losses = f32("adamw.losses");
      const norms = f32("adamw.gradnorms");
      zeroGrads();
      for (let step = 0; step < adamw.steps; step++) {
        const loss = model.loss(tokens, targets);
        assert.ok(Math.abs(loss.item() - losses[step]) <= TOL.adamLoss * Math.max(1, losses[step]), `step ${step}: loss ${loss.item()} vs ${losses[step]}`);
        engine.backward(loss);
        const norm = gradNorm(engine, params);
        assert.ok(Math.abs(norm - norms[step]) <= 1e-4 * norms[step], `step ${step}: grad norm ${norm} vs ${norms[step]}`);
        opt.update(adamw.lr, clipFactor(norm, adamw.clip));
        opt.zeroGrad();
        engine.endStep();
      }
      for (const p of params) assertClose(`after ${p.name}`, p.toArray(), f32(`after.${p.name}`), TOL.after);
      reportWorst(t);
    });
  });
}
