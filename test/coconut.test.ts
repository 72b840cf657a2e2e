// The COCONUT-style model C: segment-by-segment runs equal one causal pass, gradients flow
// through the fed-back hidden states (finite differences), cached generation computes what
// training computes, the curriculum, and a tiny seeded run whose loss falls.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import type { Tensor } from "../src/engine/tensor.js";
import { crossEntropy } from "../src/engine/ops/loss.js";
import { concatSeq, sliceSeq } from "../src/engine/ops/sequence.js";
import type { TransformerConfig } from "../src/model/config.js";
import { CoconutLM, columns } from "../src/model/coconut.js";
import { noisyLatent } from "../src/model/latent-noise.js";
import { coconutGenerate } from "../src/infer/coconut-generate.js";
import { SegmentMemory } from "../src/model/coconut-memory.js";
import { TransformerLM } from "../src/model/transformer.js";
import { coconutPhase, coconutStage, evaluateCoconut } from "../src/train/coconut-phase.js";
import { runTraining } from "../src/train/loop.js";
import type { Dataset } from "../src/data/dataset.js";

const CONFIG: TransformerConfig = { vocab: 7, dModel: 16, layers: 2, heads: 2, attnDim: 16, mlpDim: 32, normEps: 1e-5, ropeBase: 10000 };

let engine: Engine;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 256 });
});
after(async () => {
  await engine.close();
});

function ids(rows: number[][]): Tensor {
  return engine.fromArray(rows.flat(), [rows.length, rows[0].length], { dtype: "i32" });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A model whose weights are large enough for clear, non-trivial gradients. */
function model(seed: number): CoconutLM {
  const lm = new TransformerLM(engine, CONFIG, new Rng(seed));
  const rng = new Rng(seed + 1);
  for (const p of lm.params.list()) if (p.rank === 2) p.view().set(rng.normals(p.size, 0.3));
  return new CoconutLM(lm);
}

describe("segments", () => {
  test("running inputs segment by segment equals one causal pass over their concatenation", () => {
    const m = model(1);
    const x = engine.fromArray(new Rng(2).normals(2 * 9 * 16), [2, 9, 16]);
    const full = engine.noGrad(() => m.lm.hiddenFrom(x)).toArray();
    const memory = new SegmentMemory(m.lm);
    const parts = engine.noGrad(() => concatSeq([[0, 5], [5, 1], [6, 1], [7, 2]].map(([s, n]) => memory.run(sliceSeq(x, s, n)))));
    assert.ok(maxDiff(full, parts.toArray()) < 1e-5, `max difference ${maxDiff(full, parts.toArray())}`);
    engine.endStep();
  });
});

describe("gradients through the continuous steps", () => {
  const prompt = [[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]];
  const answer = [[3, 1, 4, 1, 5], [2, 6, 5, 3, 5]];
  const LATENTS = 3;

  /** The loss with the fed-back states detached: each step's input is a constant copy. */
  function detachedLoss(m: CoconutLM): Tensor {
    const memory = new SegmentMemory(m.lm);
    let last = sliceSeq(memory.run(m.lm.embed(ids(prompt))), 4, 1);
    for (let s = 0; s < LATENTS; s++) last = memory.run(engine.fromArray(last.toArray(), last.shape));
    const h = concatSeq([last, memory.run(m.lm.embed(ids(answer.map((r) => r.slice(LATENTS, 4)))))]);
    return crossEntropy(m.logitsFrom(h).reshape([-1, CONFIG.vocab]), ids(answer.map((r) => r.slice(LATENTS, 5))).reshape([-1]));
  }

  test("match central finite differences of the unrolled loss, and differ when the feedback is cut", () => {
    const m = model(3);
    const loss = () => m.loss(ids(prompt), ids(answer), LATENTS);
    const l0 = loss();
    const value = l0.item();
    engine.backward(l0);
    const names = ["blocks.0.attn.qkv.weight", "blocks.1.mlp.fc.weight", "wte.weight", "norm_f.weight"];
    const grads = new Map(names.map((n) => [n, m.lm.params.get(n).grad!.toArray()]));
    for (const p of m.lm.params.list()) engine.fill(p.grad!.ptr, p.size, 0);
    engine.endStep();
    const rng = new Rng(4);
    const h = 1e-2;
    for (const name of names) {
      const p = m.lm.params.get(name);
      const g = grads.get(name)!;
      const scale = Math.max(...Array.from(g, Math.abs));
      assert.ok(scale > 1e-3, `${name}: gradient too small to check (${scale})`);
      for (let k = 0; k < 8; k++) {
        const j = rng.int(p.size);
        const saved = p.view()[j];
        p.view()[j] = saved + h;
        const up = engine.noGrad(() => loss().item());
        p.view()[j] = saved - h;
        const down = engine.noGrad(() => loss().item());
        p.view()[j] = saved;
        engine.endStep();
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(numeric - g[j]) <= 2e-3 + 0.01 * scale, `${name}[${j}]: backward ${g[j]} vs finite difference ${numeric}`);
      }
    }
    // The same loss with every fed-back state cut from the graph gets another gradient.
    const cut = detachedLoss(m);
    assert.ok(Math.abs(cut.item() - value) < 1e-5, "detaching changed the forward value");
    engine.backward(cut);
    const qkv = m.lm.params.get("blocks.0.attn.qkv.weight").grad!.toArray();
    assert.ok(maxDiff(qkv, grads.get("blocks.0.attn.qkv.weight")!) > 0.1, "the gradient does not flow through the fed-back states");
    for (const p of m.lm.params.list()) engine.fill(p.grad!.ptr, p.size, 0);
    engine.endStep();
  });
});

describe("generation", () => {
  test("cached generation computes what training computes, with and without latent noise", () => {
    const m = model(5);
    const prompt = ids([[1, 2, 3, 4], [4, 3, 2, 1], [5, 5, 6, 6]]);
    const inputs0 = ids([[1, 1], [2, 2], [3, 3]]);
    const clean = engine.noGrad(() => m.predictors(prompt, 2, inputs0)).toArray();
    const noisy = engine.noGrad(() => m.predictors(prompt, 2, inputs0, { scale: 0.1, relativeToMax: true, rng: new Rng(9) })).toArray();
    assert.ok(maxDiff(clean, noisy) > 1e-3, "latent noise did not reach the fed-back states");
    engine.endStep();
    for (const scale of [0, 0.1]) {
      const noise = () => (scale > 0 ? { scale, relativeToMax: true, rng: new Rng(9) } : null);
      const tokens = coconutGenerate(m, prompt, { latents: 2, tokens: 3, noise: noise() });
      const inputs = ids(tokens.map((r) => r.slice(0, 2)));
      const h = engine.noGrad(() => m.predictors(prompt, 2, inputs, noise()));
      const logits = engine.noGrad(() => m.logitsFrom(h)).view();
      tokens.forEach((row, b) => row.forEach((t, i) => {
        const at = (b * 3 + i) * CONFIG.vocab;
        const best = Array.from(logits.subarray(at, at + CONFIG.vocab)).reduce((bi, v, k, a) => (v > a[bi] ? k : bi), 0);
        assert.equal(t, best, `row ${b}, token ${i}, noise ${scale}`);
      }));
      engine.endStep();
    }
  });

  test("latent noise has standard deviation σ × the latent's largest |element|, seeded", () => {
    const latent = engine.fromArray(Float32Array.from({ length: 4000 }, (_, i) => (i % 4000 === 7 ? -2 : 0.5)), [1, 1, 4000]);
    const a = noisyLatent(latent, { scale: 0.1, relativeToMax: true, rng: new Rng(3) }).toArray();
    const b = noisyLatent(latent, { scale: 0.1, relativeToMax: true, rng: new Rng(3) }).toArray();
    assert.deepEqual(a, b);
    const v = latent.view();
    let ss = 0;
    for (let i = 0; i < a.length; i++) ss += (a[i] - v[i]) ** 2;
    const std = Math.sqrt(ss / a.length);
    assert.ok(Math.abs(std - 0.2) < 0.01, `std ${std}, expected 0.1 × 2`);
    engine.endStep();
  });
});

describe("training", () => {
  test("the curriculum adds one continuous step per stage over the first half, then holds the last", () => {
    const stages = Array.from({ length: 12 }, (_, s) => coconutStage(s, 12, 4));
    assert.deepEqual(stages, [1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4]);
    assert.equal(coconutStage(0, 10, 1), 1);
  });

  test("columns picks answer columns", () => {
    assert.deepEqual([...columns(ids([[1, 2, 3], [4, 5, 6]]), 1, 3).ints()], [2, 3, 5, 6]);
    engine.endStep();
  });

  test("the loss falls on a tiny seeded run", () => {
    // The answer repeats the prompt's first four tokens twice: learnable, but only through the steps.
    const rng = new Rng(11);
    const examples = Array.from({ length: 64 }, () => {
      const p = Array.from({ length: 4 }, () => 1 + rng.int(6));
      return { tokens: [...p, ...p, ...p], lossStart: 4 };
    });
    const data: Dataset = { vocab: 7, padId: 0, examples };
    const lm = new TransformerLM(engine, CONFIG, new Rng(12));
    const m = new CoconutLM(lm);
    const span = { start: 4, length: 8 };
    const before = engine.noGrad(() => evaluateCoconut(engine, m, data, span, 2));
    engine.endStep();
    const dir = mkdtempSync(join(tmpdir(), "jepa-coconut-"));
    try {
      const steps = 60;
      runTraining(engine, data, coconutPhase(engine, m, { kind: "coconut", test: true }, span, 2, steps, null), {
        steps, batch: 16, seq: 11, lr: 1e-2, minLr: 1e-3, warmup: 5, weightDecay: 0, beta1: 0.9, beta2: 0.95, clip: 1,
        evalEvery: 1000, checkpointEvery: 1000, logEvery: 1000, seed: 1, loss: "answer",
      }, { outDir: dir, label: "coconut", log: () => undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const afterEval = engine.noGrad(() => evaluateCoconut(engine, m, data, span, 2));
    engine.endStep();
    assert.ok(afterEval.loss < 0.7 * before.loss, `loss ${before.loss} -> ${afterEval.loss}`);
  });
});
