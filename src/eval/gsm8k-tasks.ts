/**
 * The two few-shot conventions GSM8K results are reported in, as lm-evaluation-harness
 * defines them: `gsm8k` (5-shot, "Question: … Answer:", exemplars are problems of the train
 * split with their worked answers, scored on `#### N`) and `gsm8k_cot` (8-shot, "Q: … A:", the
 * fixed chain-of-thought exemplars, scored on "The answer is N."). Exemplars and the question
 * are joined as the harness joins them: text, a space, the target; shots separated by a blank line.
 */
import { finalAnswer, type Gsm8kExample } from "../data/gsm8k.js";
import { COT_EXEMPLARS } from "./gsm8k-cot-exemplars.js";

/** The task names. */
export type Gsm8kTaskName = "gsm8k" | "gsm8k_cot";

/** One convention: how a question is shown, its default shots, and where generation stops. */
export interface Gsm8kTask {
  name: Gsm8kTaskName;
  defaultShots: number;
  /** The most shots it has exemplars for (null: as many as the exemplar source holds). */
  maxShots: number | null;
  /** A question as the model sees it, up to where the answer starts. */
  question(text: string): string;
  /**
   * Generation ends at the first of these strings (and at the model's end token). The
   * harness's lists, plus the blank line that separates shots: answers never contain one.
   */
  stopSequences: readonly string[];
}

/** Both tasks by name. */
export const GSM8K_TASKS: Record<Gsm8kTaskName, Gsm8kTask> = {
  gsm8k: { name: "gsm8k", defaultShots: 5, maxShots: null, question: (q) => `Question: ${q}\nAnswer:`, stopSequences: ["Question:", "\n\n"] },
  gsm8k_cot: { name: "gsm8k_cot", defaultShots: 8, maxShots: COT_EXEMPLARS.length, question: (q) => `Q: ${q}\nA:`, stopSequences: ["Q:", "\n\n"] },
};

/** The task of this name, or an error listing both. */
export function gsm8kTask(name: string): Gsm8kTask {
  const task = GSM8K_TASKS[name as Gsm8kTaskName];
  if (!task) throw new Error(`unknown task '${name}' (known: gsm8k, gsm8k_cot)`);
  return task;
}

/** A solved exemplar: the question and the target text that follows it. */
export interface Exemplar {
  question: string;
  target: string;
}

/**
 * The first `shots` exemplars of the task: the fixed chain-of-thought ones for gsm8k_cot, the
 * first problems of `source` (the train split, worked answers included) for gsm8k.
 */
export function exemplarsFor(task: Gsm8kTask, shots: number, source: readonly Gsm8kExample[]): Exemplar[] {
  if (!Number.isInteger(shots) || shots < 0) throw new Error(`shots must be a non-negative integer, got ${shots}`);
  if (task.name === "gsm8k_cot") {
    if (shots > COT_EXEMPLARS.length) throw new Error(`gsm8k_cot has ${COT_EXEMPLARS.length} exemplars, ${shots} shots asked for`);
    return COT_EXEMPLARS.slice(0, shots).map((e) => ({ ...e }));
  }
  if (shots > source.length) throw new Error(`${shots} shots asked for, but the exemplar source has ${source.length} problems`);
  return source.slice(0, shots).map((e) => ({ question: e.question, target: e.answer }));
}

/** The few-shot prompt: each exemplar's question, a space and its target, then the question. */
export function buildPrompt(task: Gsm8kTask, exemplars: readonly Exemplar[], question: string): string {
  return [...exemplars.map((e) => `${task.question(e.question)} ${e.target}`), task.question(question)].join("\n\n");
}

/** The gold answer of a problem (the text after its `####`). */
export function goldAnswer(example: Gsm8kExample): string {
  return finalAnswer(example.answer);
}

/** The generated text up to (not including) the first stop sequence. */
export function cutAtStop(text: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let end = text.length;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return { text: text.slice(0, end), stopped: end < text.length };
}
