// The QK-Norm variants: the per-head temperature op against finite differences, "temp" at
// g = √dh reproducing the paper's QK-Norm exactly, and the KV cache agreeing with a full
// recomputation for every variant (the rollout runs its own copy of the block).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import { headScale } from "../src/engine/ops/head-scale.js";
import type { TransformerConfig } from "../src/model/config.js";
import { TransformerLM } from "../src/model/transformer.js";
import { Reasoner } from "../src/model/reasoner.js";
import { QK_NORMS } from "../src/model/config.js";
import { rollout } from "../src/infer/rollout.js";
import { gradCheck } from "./helpers/gradcheck.js";

const CONFIG: TransformerConfig = { vocab: 20, dModel: 32, layers: 2, heads: 4, attnDim: 32, mlpDim: 64, normEps: 1e-5, ropeBase: 10000 };

let engine: Engine;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 128 });
});
after(async () => {
  await engine.close();
});

const ids = () => engine.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5], { dtype: "i32" });

describe("QK-Norm variants", () => {
  test("headScale scales each head by base·exp(s) and has the right gradients", () =>
    gradCheck(engine, {
      inputs: [{ shape: [2, 3, 12] }, { shape: [3] }],
      run: ([x, s]) => headScale(x, s, 3, 1.7),
      reference: ([x, s]) => x.map((v, i) => v * 1.7 * Math.exp(s[Math.floor(i / 4) % 3])),
    }));

  test("temp with g = √dh at init gives the paper's logits", () => {
    const dh = CONFIG.attnDim / CONFIG.heads;
    const paper = new TransformerLM(engine, CONFIG, new Rng(3)).logits(ids()).toArray();
    const temp = new TransformerLM(engine, { ...CONFIG, qkNorm: "temp", qkTemp: Math.sqrt(dh) }, new Rng(3)).logits(ids()).toArray();
    let worst = 0;
    for (let i = 0; i < paper.length; i++) worst = Math.max(worst, Math.abs(paper[i] - temp[i]));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
    engine.endStep();
  });

  test("the variants differ: temp at g = 10 and none change the logits", () => {
    const paper = new TransformerLM(engine, CONFIG, new Rng(3)).logits(ids()).toArray();
    for (const qkNorm of ["temp", "none"] as const) {
      const other = new TransformerLM(engine, { ...CONFIG, qkNorm }, new Rng(3)).logits(ids()).toArray();
      assert.ok(other.some((v, i) => Math.abs(v - paper[i]) > 1e-4), `${qkNorm} gave the paper's logits`);
    }
    engine.endStep();
  });

  for (const qkNorm of QK_NORMS) {
    test(`${qkNorm}: the KV cache gives the same chain as recomputing the prefix`, () => {
      const reasoner = new Reasoner(engine, { ...CONFIG, qkNorm }, new Rng(11));
      // A non-zero temperature, so the learnt parameter is really read on both paths.
      if (qkNorm === "temp") reasoner.lm.params.get("blocks.1.attn.qk_temp").view().set([0.3, -0.2, 0.1, 0.5]);
      const cached = rollout(reasoner, ids(), { steps: 4 }).toArray();
      const recomputed = rollout(reasoner, ids(), { steps: 4, cache: false }).toArray();
      let worst = 0;
      for (let i = 0; i < cached.length; i++) worst = Math.max(worst, Math.abs(cached[i] - recomputed[i]));
      assert.ok(worst < 1e-5, `largest difference ${worst}`);
      engine.endStep();
    });
  }
});
