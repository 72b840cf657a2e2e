/**
 * Reading a dataset from JSON Lines. Each line is an object with either "tokens" (integer ids)
 * or "text" (a string, tokenised by characters unless a tokenizer is given), and optionally
 * "loss_start": the index of the first token that is a target (the answer part). Blank lines
 * are skipped; anything else malformed is an error naming the line, including what would
 * otherwise be read silently wrong: a file mixing text and token rows, a row with both, bytes
 * that are not UTF-8, and token ids too large for any vocabulary the engine can hold.
 */
import { CharTokenizer } from "./char-tokenizer.js";
import type { Dataset, Example } from "./dataset.js";
import type { Tokenizer } from "./tokenizer.js";

/** The largest vocabulary inferred from token ids: an embedding this tall already fills much of the engine's memory. */
export const MAX_INFERRED_VOCAB = 1 << 20;

/** A dataset read from JSONL, with the tokenizer when it held text. */
export interface JsonlDataset {
  dataset: Dataset;
  tokenizer: Tokenizer | null;
}

/** Parses JSONL text; `tokenizer` fixes the vocabulary for text lines (else it is built from them). */
export function parseJsonlDataset(text: string, source: string, options: { vocab?: number; tokenizer?: Tokenizer } = {}): JsonlDataset {
  const rows = jsonlRows(text, source);
  checkOneKind(rows, source);
  const texts = textsOf(rows);
  const tokenizer: Tokenizer | null = texts ? options.tokenizer ?? CharTokenizer.fromTexts(texts) : null;
  const examples: Example[] = rows.map(({ value, line }) => toExample(value, line, source, tokenizer, options.vocab));
  // A loop, not Math.max(...ids): spreading a long line's ids would overflow the call stack.
  let largest = 0;
  for (const e of examples) for (const t of e.tokens) largest = Math.max(largest, t);
  const vocab = tokenizer ? tokenizer.size : options.vocab ?? largest + 2;
  for (const [i, ex] of examples.entries()) {
    const bad = ex.tokens.find((t) => t >= vocab);
    if (bad !== undefined) throw new Error(`${source}:${rows[i].line}: token ${bad} is outside the vocabulary of ${vocab}`);
  }
  const padId = tokenizer ? tokenizer.padId : vocab - 1;
  return { dataset: { vocab, padId, examples }, tokenizer };
}

/** The "text" of every line of JSONL text, or null when no line holds text: what a tokenizer is built from. */
export function jsonlTexts(text: string, source: string): string[] | null {
  return textsOf(jsonlRows(text, source));
}

/** The text of a JSONL file's bytes; bytes that are not UTF-8 are refused with the line they are on. */
export function decodeUtf8Lines(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      try {
        decoder.decode(bytes.subarray(start, end < 0 ? bytes.length : end));
      } catch {
        throw new Error(`${source}:${line}: not valid UTF-8 text`);
      }
      if (end < 0) throw new Error(`${source}: not valid UTF-8 text`);
      start = end + 1;
    }
  }
}

/** One JSONL line read as an object, with its 1-based line number. */
export type JsonlRow = { value: Record<string, unknown>; line: number };

/** The texts of the rows ("" for a row without one), or null when none holds text. */
function textsOf(rows: JsonlRow[]): string[] | null {
  return rows.some((r) => typeof r.value.text === "string") ? rows.map((r) => String(r.value.text ?? "")) : null;
}

/** The non-blank lines of JSONL text as objects with their line numbers; at least one. */
export function jsonlRows(text: string, source: string): JsonlRow[] {
  const rows: JsonlRow[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${source}:${i + 1}: expected a JSON object`);
    rows.push({ value: value as Record<string, unknown>, line: i + 1 });
  });
  if (rows.length === 0) throw new Error(`${source}: no examples`);
  return rows;
}

/** Refuses a row with both "text" and "tokens", and a file mixing the two kinds of row. */
function checkOneKind(rows: JsonlRow[], source: string): void {
  const both = rows.find((r) => "text" in r.value && "tokens" in r.value);
  if (both) throw new Error(`${source}:${both.line}: has both "text" and "tokens"; give one`);
  const first = rows.find((r) => "text" in r.value || "tokens" in r.value);
  if (!first) return;
  const kind = "text" in first.value ? "text" : "tokens";
  const other = rows.find((r) => (kind === "text" ? "tokens" : "text") in r.value);
  if (other) throw new Error(`${source}:${other.line}: a "${kind === "text" ? "tokens" : "text"}" row in a file whose rows hold "${kind}" (line ${first.line}); use one kind per file`);
}

function toExample(value: Record<string, unknown>, line: number, source: string, tokenizer: Tokenizer | null, vocab?: number): Example {
  const where = `${source}:${line}`;
  let tokens: number[];
  if (typeof value.text === "string") {
    try {
      tokens = tokenizer!.encode(value.text);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  } else if (Array.isArray(value.tokens)) {
    const limit = vocab ?? MAX_INFERRED_VOCAB - 1;
    const bad = value.tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= limit);
    if (bad !== undefined) {
      const why = vocab === undefined && Number.isInteger(bad) && bad >= limit ? ` (the vocabulary is inferred as the largest id + 2, at most ${MAX_INFERRED_VOCAB})` : "";
      throw new Error(`${where}: "tokens" must be integers in [0, ${limit}), got ${JSON.stringify(bad)}${why}`);
    }
    tokens = value.tokens as number[];
  } else {
    throw new Error(`${where}: needs "text" (a string) or "tokens" (an array of ids)`);
  }
  if (tokens.length < 2) throw new Error(`${where}: needs at least 2 tokens`);
  const lossStart = value.loss_start ?? 1;
  if (!Number.isInteger(lossStart) || (lossStart as number) < 1 || (lossStart as number) >= tokens.length) {
    throw new Error(`${where}: "loss_start" must be an integer in [1, ${tokens.length - 1}]`);
  }
  return { tokens, lossStart: lossStart as number };
}
