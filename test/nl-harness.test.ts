// The few-shot harness: prompts, stop sequences and scoring with a scripted model; coupled
// decoding with stop sequences and the end token; the JEPA path's stop rule and Talker read-out.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import { BpeTokenizer } from "../src/data/bpe.js";
import type { Gsm8kExample } from "../src/data/gsm8k.js";
import { evaluateFewShot } from "../src/eval/gsm8k-harness.js";
import { coupledModel, jepaModel, type FewShotModel } from "../src/eval/gsm8k-models.js";
import { buildPrompt, exemplarsFor, GSM8K_TASKS } from "../src/eval/gsm8k-tasks.js";
import { decodeUntil } from "../src/infer/decode-until.js";
import { greedyContinue } from "../src/infer/generate-lm.js";
import { rollout } from "../src/infer/rollout.js";
import type { TransformerConfig } from "../src/model/config.js";
import { DualTalker } from "../src/model/dual-talker.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import { Reasoner } from "../src/model/reasoner.js";
import { TransformerLM } from "../src/model/transformer.js";

const PROBLEMS: Gsm8kExample[] = [
  { question: "Ann has 2 pens. She buys 3 more. How many pens does Ann have now?", answer: "Ann has 2 + 3 = 5 pens.\n#### 5" },
  { question: "Bo has 9 cups. He loses 4. How many cups does Bo have now?", answer: "Bo has 9 - 4 = 5 cups.\n#### 5" },
  { question: "Cy has 6 hats. He sells 1. How many hats does Cy have now?", answer: "Cy has 6 - 1 = 5 hats.\n#### 5" },
];
const tokenizer = BpeTokenizer.train(PROBLEMS.map((p) => `Question: ${p.question}\nAnswer: ${p.answer}`), 300);
const CONFIG: TransformerConfig = { vocab: tokenizer.size, dModel: 32, layers: 2, heads: 4, attnDim: 32, mlpDim: 64, normEps: 1e-5, ropeBase: 10000 };

let engine: Engine;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 256 });
});
after(async () => {
  await engine.close();
});

test("the harness builds each prompt, cuts at stop sequences and scores both extractions", () => {
  const prompts: string[] = [];
  const replies = [" 2 + 3 = 5\n#### 5\n\nQuestion: more #### 9", " 9 - 4 = 6\n#### 6", " it is 5"];
  const scripted: FewShotModel = {
    name: "scripted",
    complete(prompt, maxSteps, stop) {
      prompts.push(tokenizer.decode(prompt));
      const ids = tokenizer.encode(replies[prompts.length - 1]);
      const out: number[] = [];
      for (const id of ids) {
        if (out.length === maxSteps) break;
        out.push(id);
        if (stop(out)) break;
      }
      return { tokens: out, steps: out.length };
    },
  };
  const task = GSM8K_TASKS.gsm8k;
  const r = evaluateFewShot(scripted, tokenizer, PROBLEMS, { task, shots: 1, exemplarSource: PROBLEMS.slice(2), maxSteps: 64 });
  assert.deepEqual(prompts, PROBLEMS.map((p) => buildPrompt(task, exemplarsFor(task, 1, PROBLEMS.slice(2)), p.question)));
  assert.equal(r.items[0].output, " 2 + 3 = 5\n#### 5", "cut at the blank line");
  assert.ok(r.items[0].steps < tokenizer.encode(replies[0]).length, "the stop test ended generation early");
  assert.deepEqual(r.items.map((x) => [x.strict, x.flexible]), [["5", "5"], ["6", "6"], [null, "5"]]);
  assert.equal(r.strict, 1 / 3);
  assert.equal(r.flexible, 2 / 3);
  assert.equal(r.count, 3);
});

test("coupled decoding matches greedy decoding, and stops at the end token, a stop test or the budget", () => {
  const lm = new TransformerLM(engine, CONFIG, new Rng(2));
  const prompt = tokenizer.encode("Question: Ann has 2 pens.\nAnswer:");
  const greedy = engine.noGrad(() => engine.scoped(() => greedyContinue(lm, engine.fromArray(prompt, [1, prompt.length], { dtype: "i32" }), 12)))[0];
  assert.deepEqual(decodeUntil(lm, prompt, { maxNew: 12, endId: -1 }).tokens, greedy);
  const ended = decodeUntil(lm, prompt, { maxNew: 12, endId: greedy[3] });
  assert.deepEqual(ended, { tokens: greedy.slice(0, greedy.indexOf(greedy[3])), ended: true });
  assert.deepEqual(decodeUntil(lm, prompt, { maxNew: 12, endId: -1, stop: (t) => t.length === 5 }).tokens, greedy.slice(0, 5));
  const model = coupledModel(lm, -1);
  assert.equal(model.complete(prompt, 7, () => false).tokens.length, 7);
});

test("the JEPA path: the chain stops at the latent nearest the end token's EMA row, then the Talker reads it", () => {
  const reasoner = new Reasoner(engine, CONFIG, new Rng(3));
  const stack = { ...CONFIG, layers: 1 };
  const dual = new DualTalker(engine, { kind: "dual", latentDim: 32, stack, encoderLayers: 1, causal: false }, new Rng(4));
  const mono = new MonoTalker(engine, { kind: "mono", latentDim: 32, stack, encoderLayers: 0, causal: false }, new Rng(5));
  const prompt = tokenizer.encode("Question: Bo has 9 cups.\nAnswer:");
  for (const talker of [dual, mono]) {
    const model = jepaModel(engine, reasoner, talker, tokenizer.endId);
    const a = model.complete(prompt, 9, () => true);
    assert.deepEqual(model.complete(prompt, 9, () => true), a, "deterministic");
    assert.ok(a.steps <= 9 && a.tokens.length <= a.steps && !a.tokens.includes(tokenizer.endId));
  }
  // Give the first two latents rows of their own and the end token's row the third latent's
  // direction: only the third latent is nearest to the end row, so the chain must stop there.
  const chain = engine.noGrad(() => engine.scoped(() => rollout(reasoner, engine.fromArray(prompt, [1, prompt.length], { dtype: "i32" }), { steps: 3 }).toArray()));
  const ema = reasoner.ema.view();
  ema.set(chain.subarray(0, 32), 5 * 32);
  ema.set(chain.subarray(32, 64), 6 * 32);
  ema.set(chain.subarray(64, 96), tokenizer.endId * 32);
  const stopped = jepaModel(engine, reasoner, dual, tokenizer.endId).complete(prompt, 9, () => false);
  assert.equal(stopped.steps, 3);
});
