// The arithmetic word-problem generator: GSM8K's format, 2 to 5 operations whose worked
// solutions are arithmetically right, seeded, and disjoint train/test splits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateArithProblem, generateArithSplits } from "../src/data/arith.js";
import { finalAnswer, parseGsm8kJsonl, toGsm8kJsonl } from "../src/data/gsm8k.js";
import { Rng } from "../src/engine/rng.js";
import { BpeTokenizer } from "../src/data/bpe.js";
import { fewShotDataset, packedDataset, problemExample, tokenizerCorpus } from "../src/experiments/arith-data.js";
import { buildPrompt, exemplarsFor, GSM8K_TASKS } from "../src/eval/gsm8k-tasks.js";

const OPS: Record<string, (a: number, b: number) => number> = { "+": (a, b) => a + b, "-": (a, b) => a - b, "*": (a, b) => a * b, "/": (a, b) => a / b };

test("every solution line is a correct calculation and the chain ends at #### N", () => {
  const rng = new Rng(7);
  const opCounts = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const p = generateArithProblem(rng);
    const calcs = [...p.answer.matchAll(/(\d+) ([-+*/]) (\d+) = <<(\d+)([-+*/])(\d+)=(\d+)>>(\d+)/g)];
    assert.equal(calcs.length, p.operations, p.answer);
    for (const [, a, op, b, a2, op2, b2, c, c2] of calcs) {
      assert.deepEqual([a2, op2, b2, c2], [a, op, b, c], "the annotation repeats the line");
      assert.equal(OPS[op](Number(a), Number(b)), Number(c), `${a} ${op} ${b} = ${c}`);
      assert.ok(Number(c) >= 1 && Number(c) <= 999 && Number.isInteger(Number(c)));
    }
    assert.equal(Number(calcs[calcs.length - 1][7]), p.result);
    assert.equal(finalAnswer(p.answer), String(p.result));
    assert.ok(p.operations >= 2 && p.operations <= 5);
    assert.match(p.question, /How many \w+ does \w+ have now\?$/);
    opCounts.add(p.operations);
  }
  assert.deepEqual([...opCounts].sort(), [2, 3, 4, 5], "all operation counts occur");
});

test("the generator is seeded, honours its options, and writes valid GSM8K JSONL", () => {
  const a = generateArithSplits({ train: 50, test: 10 }, new Rng(3));
  const b = generateArithSplits({ train: 50, test: 10 }, new Rng(3));
  assert.deepEqual(a, b);
  assert.notDeepEqual(generateArithSplits({ train: 50, test: 10 }, new Rng(4)).train, a.train);
  const plain = generateArithProblem(new Rng(1), { calculator: false, minOps: 3, maxOps: 3 });
  assert.ok(!plain.answer.includes("<<"));
  assert.equal(plain.operations, 3);
  const parsed = parseGsm8kJsonl(toGsm8kJsonl(a.train), "arith");
  assert.deepEqual(parsed, a.train.map((p) => ({ question: p.question, answer: p.answer })));
});

test("train and test splits are disjoint and have no repeated question", () => {
  const { train, test: held } = generateArithSplits({ train: 2000, test: 300 }, new Rng(11));
  assert.equal(train.length, 2000);
  assert.equal(held.length, 300);
  const trainQ = new Set(train.map((p) => p.question));
  assert.equal(trainQ.size, 2000);
  assert.equal(new Set(held.map((p) => p.question)).size, 300);
  assert.ok(held.every((p) => !trainQ.has(p.question)));
});

test("training sequences: few-shot prompts tokenised exactly as the harness tokenises them", () => {
  const { train } = generateArithSplits({ train: 40, test: 1 }, new Rng(5), { calculator: false });
  const tok = BpeTokenizer.train(tokenizerCorpus(train), 320);
  const task = GSM8K_TASKS.gsm8k;
  const ex = problemExample(tok, train.slice(0, 2), train[5]);
  const prompt = buildPrompt(task, exemplarsFor(task, 2, train), train[5].question);
  assert.deepEqual(ex.tokens.slice(0, ex.lossStart), tok.encode(prompt), "the prompt the model is trained on is the prompt it is evaluated on");
  assert.equal(tok.decode(ex.tokens), `${prompt} ${train[5].answer}⏎`);
  assert.equal(ex.tokens[ex.tokens.length - 1], tok.endId);

  const data = fewShotDataset(tok, train.slice(0, 20), train, 3, new Rng(1));
  const shots = data.examples.map((e) => tok.decode(e.tokens.slice(0, e.lossStart)).split("Question:").length - 2);
  assert.ok(shots.every((k) => k >= 0 && k <= 3) && new Set(shots).size > 1, `shot counts ${shots}`);
  data.examples.forEach((e, i) => assert.ok(tok.decode(e.tokens.slice(e.lossStart)).startsWith(` ${train[i].answer}`), "each answer follows its own question"));

  const packed = packedDataset(tok, train, 300, 5, new Rng(2));
  for (const e of packed.examples) {
    assert.equal(e.tokens.length, 300, "no padding");
    assert.ok(tok.decode(e.tokens).startsWith("Question: ") && tok.decode(e.tokens).includes("\n\nQuestion: "));
  }
});
