// GSM8K data and scoring: the JSONL reader with line-numbered errors, the harness's answer
// extraction and normalisation, and the prompts of both few-shot conventions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { finalAnswer, parseGsm8kJsonl, toGsm8kJsonl } from "../src/data/gsm8k.js";
import { answerMatches, extractFlexible, extractStrict, normalizeAnswer } from "../src/eval/gsm8k-answer.js";
import { COT_EXEMPLARS } from "../src/eval/gsm8k-cot-exemplars.js";
import { buildPrompt, cutAtStop, exemplarsFor, goldAnswer, gsm8kTask, GSM8K_TASKS } from "../src/eval/gsm8k-tasks.js";

const FIXTURE = fileURLToPath(new URL("../../test/fixtures/gsm8k-20.jsonl", import.meta.url));
const fixture = () => parseGsm8kJsonl(readFileSync(FIXTURE, "utf8"), "gsm8k-20.jsonl");

test("the reader parses the 20-example fixture and reports malformed lines by number", () => {
  const ex = fixture();
  assert.equal(ex.length, 20);
  assert.match(ex[0].question, /^Janet’s ducks lay 16 eggs/);
  assert.equal(goldAnswer(ex[0]), "18");
  assert.equal(goldAnswer(ex[2]), "70000");
  assert.deepEqual(parseGsm8kJsonl(toGsm8kJsonl(ex), "again"), ex);
  const good = JSON.stringify({ question: "q?", answer: "1 + 1 = 2\n#### 2" });
  const cases: Array<[string, RegExp]> = [
    [`${good}\n{"question": "q"`, /d:2: not valid JSON/],
    [`${good}\n\n[1, 2]`, /d:3: expected a JSON object/],
    [`{"answer": "#### 1"}`, /d:1: needs "question"/],
    [`{"question": "q", "answer": 5}`, /d:1: needs "answer"/],
    [`${good}\n{"question": "q", "answer": "no final line"}`, /d:2: the answer has no final "#### N" line/],
    ["\n\n", /d: no examples/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseGsm8kJsonl(text, "d"), message);
  assert.equal(finalAnswer("a #### 3\n#### 1,250 "), "1,250");
});

test("numbers are normalised as the harness does: commas, $, everything up to ####, a trailing dot", () => {
  assert.equal(normalizeAnswer("$1,250."), "1250");
  assert.equal(normalizeAnswer("She made 9 * 2 = 18.\n#### 18"), "18");
  assert.equal(normalizeAnswer("-3"), "-3");
  assert.equal(normalizeAnswer("18.00"), "18.00", "no numeric rounding, as in the harness");
  assert.ok(answerMatches("$18.", "18"));
  assert.ok(answerMatches("1,000", "1000"));
  assert.ok(!answerMatches("180", "18"));
  assert.ok(!answerMatches(null, "18"));
});

test("strict and flexible extraction", () => {
  const worked = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18";
  assert.equal(extractStrict("gsm8k", worked), "18");
  assert.equal(extractStrict("gsm8k", "#### -1,200.5 then #### 7"), "-1,200.5", "the first match");
  assert.equal(extractStrict("gsm8k", "The answer is 18."), null);
  assert.equal(extractStrict("gsm8k_cot", "So 5 + 4 = 9. The answer is 9."), "9");
  assert.equal(extractStrict("gsm8k_cot", "The answer is 1,000 dollars."), "1,000");
  assert.equal(extractStrict("gsm8k_cot", "#### 9"), null);
  assert.equal(extractFlexible("He had 58 - 23 = 35. Then 33 golf balls."), "33");
  assert.equal(extractFlexible("costs $1,234.50 in total"), "$1,234.50");
  assert.equal(extractFlexible("x is 7"), "7", "a single digit counts");
  assert.equal(extractFlexible("no numbers here"), null);
  assert.ok(answerMatches(extractFlexible(worked), "18"));
});

test("gsm8k prompts: exemplars from the source with their worked answers, shots split by a blank line", () => {
  const ex = fixture();
  const task = gsm8kTask("gsm8k");
  assert.equal(task.defaultShots, 5);
  const shots = exemplarsFor(task, 2, ex);
  const prompt = buildPrompt(task, shots, "How many?");
  assert.equal(prompt, `Question: ${ex[0].question}\nAnswer: ${ex[0].answer}\n\nQuestion: ${ex[1].question}\nAnswer: ${ex[1].answer}\n\nQuestion: How many?\nAnswer:`);
  assert.equal(buildPrompt(task, [], "q"), "Question: q\nAnswer:");
  assert.throws(() => exemplarsFor(task, 21, ex), /exemplar source has 20/);
  assert.throws(() => gsm8kTask("math"), /unknown task 'math'/);
});

test("gsm8k_cot prompts use the eight fixed chain-of-thought exemplars", () => {
  const task = GSM8K_TASKS.gsm8k_cot;
  assert.equal(task.defaultShots, 8);
  assert.equal(COT_EXEMPLARS.length, 8);
  for (const e of COT_EXEMPLARS) assert.match(e.target, /The answer is \d+\.$/);
  const prompt = buildPrompt(task, exemplarsFor(task, 8, []), "How many?");
  assert.ok(prompt.startsWith("Q: There are 15 trees in the grove."));
  assert.ok(prompt.includes("\nA: There are 15 trees originally."));
  assert.ok(prompt.endsWith("The answer is 8.\n\nQ: How many?\nA:"));
  assert.equal(prompt.split("\n\n").length, 9);
  assert.throws(() => exemplarsFor(task, 9, []), /8 exemplars, 9 shots/);
});

test("generation is cut at the first stop sequence", () => {
  assert.deepEqual(cutAtStop(" 3 + 4 = 7\n#### 7\n\nQuestion: next", GSM8K_TASKS.gsm8k.stopSequences), { text: " 3 + 4 = 7\n#### 7", stopped: true });
  assert.deepEqual(cutAtStop(" The answer is 5.Q: x", GSM8K_TASKS.gsm8k_cot.stopSequences), { text: " The answer is 5.", stopped: true });
  assert.deepEqual(cutAtStop("no stop", ["Q:"]), { text: "no stop", stopped: false });
});
