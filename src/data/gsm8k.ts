/**
 * GSM8K-format problems: JSON Lines of {"question": ..., "answer": ...}, where the answer is a
 * worked solution whose last line is `#### N`. The reader accepts any dataset in this form
 * (GSM8K itself, or the generated arithmetic problems) and names the line of anything malformed.
 */

/** One problem: the question and its worked answer ending in `#### N`. */
export interface Gsm8kExample {
  question: string;
  answer: string;
}

/** Parses GSM8K JSONL text; blank lines are skipped, anything malformed is an error naming its line. */
export function parseGsm8kJsonl(text: string, source: string): Gsm8kExample[] {
  const out: Gsm8kExample[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`);
    const { question, answer } = value as Record<string, unknown>;
    if (typeof question !== "string" || question.trim() === "") throw new Error(`${where}: needs "question" (a non-empty string)`);
    if (typeof answer !== "string") throw new Error(`${where}: needs "answer" (a string)`);
    checkFinalAnswer(answer, where);
    out.push({ question, answer });
  });
  if (out.length === 0) throw new Error(`${source}: no examples`);
  return out;
}

/** A number as GSM8K writes final answers: digits, optionally signed, with thousands commas or a decimal part. */
const FINAL_NUMBER = /^-?[0-9][0-9,]*(\.[0-9]+)?$/;

/** Refuses an answer whose final "#### N" is missing, repeated or not a number: it could never be scored. */
function checkFinalAnswer(answer: string, where: string): void {
  const marks = answer.split("####").length - 1;
  if (marks === 0) throw new Error(`${where}: the answer has no final "#### N" line`);
  if (marks > 1) throw new Error(`${where}: the answer has ${marks} "####" marks; it needs exactly one final "#### N"`);
  const final = finalAnswer(answer);
  if (!FINAL_NUMBER.test(final)) throw new Error(`${where}: the final answer after "####" must be a number, got ${JSON.stringify(final)}`);
}

/** The final answer of a worked solution: the text after its last "####", trimmed. */
export function finalAnswer(answer: string): string {
  return answer.slice(answer.lastIndexOf("####") + 4).trim();
}

/** Problems as GSM8K JSONL text (one object per line). */
export function toGsm8kJsonl(examples: readonly Gsm8kExample[]): string {
  return examples.map((e) => JSON.stringify({ question: e.question, answer: e.answer }) + "\n").join("");
}
