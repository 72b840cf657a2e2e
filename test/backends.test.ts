// The two matrix-product backends side by side: a 50-step training run agrees within stated
// tolerances, and each backend is bit-reproducible for a given seed and thread count.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import type { BackendName } from "../src/engine/backend.js";
import { Rng } from "../src/engine/rng.js";
import { AdamW, clipFactor, gradNorm } from "../src/engine/optim.js";
import { warmupCosine } from "../src/engine/schedule.js";
import { TransformerLM } from "../src/model/transformer.js";
import type { TransformerConfig } from "../src/model/config.js";
import { testBackends } from "./helpers/backends.js";
import { relMaxError } from "./helpers/rel-error.js";

const SMALL: TransformerConfig = { vocab: 32, dModel: 64, layers: 2, heads: 4, attnDim: 64, mlpDim: 256, normEps: 1e-5, ropeBase: 10000 };
const BATCH = 8, SEQ = 32;

/**
 * How far the backends may drift apart in 50 steps. Each product sums in its own order, so the
 * losses differ in the last bits; AdamW then amplifies differences in small gradients. Measured
 * (OpenBLAS 0.3.21, Cooperlake kernels): 2.3e-7 on the losses, 2.8e-5 on the weights. The bounds
 * leave a wide margin for other CPUs' kernels and are still far below a wrong product's error.
 */
const TOL = { loss: 1e-5, weights: 1e-3 };

/** Trains SMALL for `steps` steps on rows that count upward from seeded random starts. */
function train(engine: Engine, steps: number, seed = 5) {
  const model = new TransformerLM(engine, SMALL, new Rng(seed));
  const params = model.params.list();
  const opt = new AdamW(engine, params, { lr: 3e-3, weightDecay: 0.01 });
  const schedule = warmupCosine(3e-3, 5, steps);
  const data = new Rng(seed + 1);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const starts = Array.from({ length: BATCH }, () => data.nextU32() % SMALL.vocab);
    const tokens = Int32Array.from({ length: BATCH * SEQ }, (_, i) => (starts[Math.floor(i / SEQ)] + (i % SEQ)) % SMALL.vocab);
    const targets = Int32Array.from(tokens, (t, i) => (i % SEQ === SEQ - 1 ? -1 : (t + 1) % SMALL.vocab));
    const loss = model.loss(engine.fromArray(tokens, [BATCH, SEQ], { dtype: "i32" }), engine.fromArray(targets, [BATCH, SEQ], { dtype: "i32" }));
    losses.push(loss.item());
    engine.backward(loss);
    opt.update(schedule(step), clipFactor(gradNorm(engine, params), 1));
    opt.zeroGrad();
    engine.endStep();
  }
  return { losses, weights: params.map((p) => p.toArray()), names: params.map((p) => p.name) };
}

function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

const BACKENDS = await testBackends();
const engines = new Map<string, Engine>();
const key = (backend: BackendName, threads: number) => `${backend}/${threads}`;

before(async () => {
  for (const backend of BACKENDS) {
    for (const threads of [1, 2]) engines.set(key(backend, threads), await createNodeEngine({ threads, memoryMB: 128, backend }));
  }
});
after(async () => {
  for (const e of engines.values()) await e.close();
});

describe("backends", () => {
  test("wasm and native agree over a 50-step training run", (t) => {
    if (!BACKENDS.includes("native")) return t.skip("native backend unavailable");
    const wasm = train(engines.get(key("wasm", 2))!, 50);
    const native = train(engines.get(key("native", 2))!, 50);
    let lossErr = 0;
    wasm.losses.forEach((l, i) => (lossErr = Math.max(lossErr, Math.abs(native.losses[i] - l) / l)));
    let weightErr = 0, worst = "";
    wasm.weights.forEach((w, i) => {
      const e = relMaxError(native.weights[i], w);
      if (e > weightErr) [weightErr, worst] = [e, wasm.names[i]];
    });
    t.diagnostic(`losses ${wasm.losses[0].toFixed(4)} → ${wasm.losses[49].toFixed(4)} (wasm), ${native.losses[49].toFixed(4)} (native)`);
    t.diagnostic(`largest relative difference: loss ${lossErr.toExponential(2)}, weights ${weightErr.toExponential(2)} (${worst})`);
    assert.ok(wasm.losses[49] < 0.5 * wasm.losses[0], "the run should learn, or the comparison says little");
    assert.ok(lossErr <= TOL.loss, `losses differ by ${lossErr.toExponential(2)} > ${TOL.loss}`);
    assert.ok(weightErr <= TOL.weights, `weights differ by ${weightErr.toExponential(2)} > ${TOL.weights} (${worst})`);
  });

  for (const backend of BACKENDS) {
    test(`${backend}: the same seed and thread count give bit-identical weights`, () => {
      for (const threads of [1, 2]) {
        const engine = engines.get(key(backend, threads))!;
        const a = train(engine, 8).weights;
        assert.ok(sameBits(a, train(engine, 8).weights), `two runs on ${threads} thread(s) differ`);
        assert.ok(!sameBits(a, train(engine, 8, 6).weights), "a different seed should give different weights");
      }
    });
  }
});
