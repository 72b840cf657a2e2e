/**
 * The few-shot harness: builds each problem's prompt in the task's convention, lets the model
 * continue it, cuts the text at the first stop sequence, and scores the strict and the
 * flexible extraction against the gold answer, as lm-evaluation-harness does for GSM8K.
 */
import type { Gsm8kExample } from "../data/gsm8k.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { answerMatches, extractFlexible, extractStrict } from "./gsm8k-answer.js";
import type { FewShotModel } from "./gsm8k-models.js";
import { buildPrompt, cutAtStop, exemplarsFor, goldAnswer, type Gsm8kTask } from "./gsm8k-tasks.js";

/** How to run one evaluation. */
export interface FewShotOptions {
  task: Gsm8kTask;
  shots: number;
  /** Where gsm8k exemplars come from (the first `shots` problems); ignored by gsm8k_cot. */
  exemplarSource: readonly Gsm8kExample[];
  /** Tokens (or latents) a model may produce per problem. */
  maxSteps: number;
  /** Called after each problem (progress lines). */
  onItem?: (item: ItemResult, done: number, total: number) => void;
}

/** One problem's outcome. */
export interface ItemResult {
  question: string;
  gold: string;
  /** The model's text, cut at the first stop sequence. */
  output: string;
  strict: string | null;
  flexible: string | null;
  strictCorrect: boolean;
  flexibleCorrect: boolean;
  promptTokens: number;
  steps: number;
}

/** Accuracy under both extractions, with every problem's outcome. */
export interface FewShotResult {
  task: string;
  shots: number;
  model: string;
  count: number;
  strict: number;
  flexible: number;
  meanPromptTokens: number;
  maxPromptTokens: number;
  meanSteps: number;
  seconds: number;
  items: ItemResult[];
}

/** Evaluates the model on every problem, in order. */
export function evaluateFewShot(model: FewShotModel, tokenizer: Tokenizer, problems: readonly Gsm8kExample[], o: FewShotOptions): FewShotResult {
  if (problems.length === 0) throw new Error("no problems to evaluate");
  const start = performance.now();
  const exemplars = exemplarsFor(o.task, o.shots, o.exemplarSource);
  const stops = o.task.stopSequences;
  const stopped = (tokens: readonly number[]) => cutAtStop(tokenizer.decode(tokens), stops).stopped;
  const items = problems.map((p, i) => {
    const prompt = tokenizer.encode(buildPrompt(o.task, exemplars, p.question));
    const out = model.complete(prompt, o.maxSteps, stopped);
    const item = scoreItem(o.task, p, cutAtStop(tokenizer.decode(out.tokens), stops).text, prompt.length, out.steps);
    o.onItem?.(item, i + 1, problems.length);
    return item;
  });
  const mean = (f: (x: ItemResult) => number) => items.reduce((s, x) => s + f(x), 0) / items.length;
  return {
    task: o.task.name, shots: o.shots, model: model.name, count: items.length,
    strict: mean((x) => Number(x.strictCorrect)), flexible: mean((x) => Number(x.flexibleCorrect)),
    meanPromptTokens: mean((x) => x.promptTokens), maxPromptTokens: Math.max(...items.map((x) => x.promptTokens)), meanSteps: mean((x) => x.steps),
    seconds: (performance.now() - start) / 1000, items,
  };
}

/** Scores one output under both extractions. */
export function scoreItem(task: Gsm8kTask, problem: Gsm8kExample, output: string, promptTokens: number, steps: number): ItemResult {
  const gold = goldAnswer(problem);
  const strict = extractStrict(task.name, output);
  const flexible = extractFlexible(output);
  return {
    question: problem.question, gold, output, strict, flexible,
    strictCorrect: answerMatches(strict, gold), flexibleCorrect: answerMatches(flexible, gold), promptTokens, steps,
  };
}
