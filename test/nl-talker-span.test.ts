// Talker training on prompts of different lengths: each row's chain is read at its own answer
// start (teacher-forced or rolled out), exactly as that row alone would give it, and a Dual-
// Talker learns from such batches.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import { batchAt, batchInOrder, type Dataset } from "../src/data/dataset.js";
import { rollout } from "../src/infer/rollout.js";
import { DualTalker } from "../src/model/dual-talker.js";
import { Reasoner } from "../src/model/reasoner.js";
import type { TransformerConfig } from "../src/model/config.js";
import { answerLatents, answerSpan, chainSpan, rowStarts, talkerPhase } from "../src/train/talker-phase.js";
import { AdamW } from "../src/engine/optim.js";

const CONFIG: TransformerConfig = { vocab: 12, dModel: 32, layers: 2, heads: 4, attnDim: 32, mlpDim: 64, normEps: 1e-5, ropeBase: 10000 };

let engine: Engine;
let reasoner: Reasoner;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 256 });
  reasoner = new Reasoner(engine, CONFIG, new Rng(5));
});
after(async () => {
  await engine.close();
});

/** Prompts of 3 to 6 tokens, then an answer (the prompt's first two tokens, reversed) and the end token 1. */
function variableData(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const examples = Array.from({ length: n }, () => {
    const prompt = Array.from({ length: 3 + rng.int(4) }, () => 2 + rng.int(10));
    return { tokens: [...prompt, prompt[1], prompt[0], 1], lossStart: prompt.length };
  });
  return { vocab: 12, padId: 0, examples };
}

test("chainSpan keeps a shared start and otherwise reads each row at its own", () => {
  const fixed: Dataset = { vocab: 12, padId: 0, examples: [{ tokens: [2, 3, 4, 5], lossStart: 2 }, { tokens: [2, 3, 4], lossStart: 2 }] };
  assert.deepEqual(chainSpan(fixed), answerSpan(fixed));
  const data = variableData(8, 1);
  const span = chainSpan(data);
  assert.equal(span.start, null);
  assert.equal(span.length, 3);
  const batch = batchInOrder(data, 0, 8, 8, "answer");
  assert.deepEqual(rowStarts(batch, span), data.examples.map((e) => e.lossStart));
  assert.throws(() => answerSpan(data), /one answer start/);
});

test("each row's chain equals the chain of that row alone, teacher-forced and rolled out", () => {
  const data = variableData(6, 2);
  const span = chainSpan(data);
  const batch = batchInOrder(data, 0, 6, 8, "answer");
  const D = CONFIG.dModel, L = span.length;
  engine.noGrad(() => {
    const teacher = answerLatents(engine, reasoner, batch, span, "teacher").toArray();
    const rolled = answerLatents(engine, reasoner, batch, span, "rollout").toArray();
    data.examples.forEach((ex, b) => {
      const tokens = engine.fromArray(ex.tokens.slice(0, -1), [1, ex.tokens.length - 1], { dtype: "i32" });
      const alone = reasoner.latents(tokens).toArray().slice((ex.lossStart - 1) * D, (ex.lossStart - 1 + L) * D);
      const row = teacher.slice(b * L * D, (b + 1) * L * D);
      alone.forEach((v, i) => assert.ok(Math.abs(v - row[i]) < 1e-5, `teacher row ${b}`));
      const prompt = engine.fromArray(ex.tokens.slice(0, ex.lossStart), [1, ex.lossStart], { dtype: "i32" });
      const chain = rollout(reasoner, prompt, { steps: L }).toArray();
      assert.deepEqual(Array.from(rolled.slice(b * L * D, (b + 1) * L * D)), Array.from(chain), `rollout row ${b}`);
    });
  });
  engine.endStep();
});

test("a Dual-Talker learns to read chains of varying-length prompts", () => {
  const data = variableData(32, 3);
  const span = chainSpan(data);
  const talker = new DualTalker(engine, { kind: "dual", latentDim: 32, stack: { ...CONFIG, layers: 1 }, encoderLayers: 1, causal: false }, new Rng(6));
  const phase = talkerPhase(engine, reasoner, talker, { kind: "talker" }, span, "teacher", 8, null);
  const opt = new AdamW(engine, phase.params, { lr: 1e-2, beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  const losses: number[] = [];
  for (let step = 0; step < 40; step++) {
    const { loss } = phase.loss(batchAt(data, step * 16, 16, 8, 1, "answer"));
    losses.push(loss.item());
    engine.backward(loss);
    opt.update(1e-2, 1);
    opt.zeroGrad();
    engine.endStep();
  }
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5, last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.6 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
});
