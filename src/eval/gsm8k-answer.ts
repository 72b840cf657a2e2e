/**
 * Answer extraction and scoring as lm-evaluation-harness does it for GSM8K: a strict pattern
 * per task (`#### N`, or "The answer is N."), a flexible one (the last number in the text),
 * and exact match after the harness's normalisation (commas, `$`, everything up to `#### `,
 * one trailing `.`, case).
 */

/** Which extraction: the task's own pattern, or the last number anywhere. */
export type Extraction = "strict" | "flexible";

const STRICT: Record<"gsm8k" | "gsm8k_cot", RegExp> = {
  gsm8k: /#### (-?[0-9.,]+)/,
  gsm8k_cot: /The answer is (-?[0-9.,]+)./,
};

const FLEXIBLE = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

/** The answer the task's strict pattern finds first, or null when it finds none. */
export function extractStrict(task: "gsm8k" | "gsm8k_cot", text: string): string | null {
  return STRICT[task].exec(text)?.[1] ?? null;
}

/** The last number-like run in the text (two or more of -$0-9., or a single digit), or null. */
export function extractFlexible(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(FLEXIBLE)) last = m[1] ?? m[2];
  return last;
}

/** The harness's normalisation of an answer string before exact match. */
export function normalizeAnswer(s: string): string {
  return s.replace(/,/g, "").replace(/\$/g, "").replace(/^[\s\S]*#### /, "").replace(/\.$/, "").toLowerCase().trim();
}

/** Whether an extracted answer (null: nothing found) matches the gold answer after normalisation. */
export function answerMatches(extracted: string | null, gold: string): boolean {
  return extracted !== null && normalizeAnswer(extracted) === normalizeAnswer(gold);
}
