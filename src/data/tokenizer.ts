/**
 * The one tokenizer interface models and datasets go through, with three kinds: characters
 * (tiny tasks), a byte-level BPE trained on the corpus (CPU-sized natural language) and GPT-2's
 * BPE (the paper's scale). A checkpoint stores `toJSON()` in its config; `restoreTokenizer`
 * rebuilds exactly the same tokenizer from it.
 */
import { BpeTokenizer, type BpeJSON } from "./bpe.js";
import { CharTokenizer } from "./char-tokenizer.js";
import { loadGpt2Tokenizer, type Gpt2JSON } from "./gpt2-tokenizer.js";

/** The tokenizer kinds. */
export type TokenizerKind = "char" | "bpe" | "gpt2";

/** What a checkpoint stores to rebuild a tokenizer. */
export type TokenizerJSON = { kind: "char"; chars: string[] } | BpeJSON | Gpt2JSON;

/** Text to token ids and back, with a padding id and an end-of-text id. */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Vocabulary size, special tokens included: model vocabularies are sized by it. */
  readonly size: number;
  readonly padId: number;
  readonly endId: number;
  /** Token ids of a text; an error names what cannot be encoded. */
  encode(text: string): number[];
  /** The text of token ids: padding dropped, the end token shown as ⏎. */
  decode(ids: ArrayLike<number>): string;
  /** One token as readable text for listings: its text, or <pad> / <end>. */
  tokenText(id: number): string;
  toJSON(): TokenizerJSON;
}

/** The spec strings `buildTokenizer` accepts, for help texts. */
export const TOKENIZER_SPECS = "char, bpe:N (a byte-level BPE of N tokens trained on the data), gpt2";

/** A tokenizer from a spec ("char", "bpe:N", "gpt2"), trained on `texts` where it learns from data. */
export async function buildTokenizer(spec: string, texts: readonly string[]): Promise<Tokenizer> {
  if (spec === "char") return CharTokenizer.fromTexts([...texts]);
  if (spec === "gpt2") return loadGpt2Tokenizer();
  const m = /^bpe:(\d+)$/.exec(spec);
  if (m) return BpeTokenizer.train(texts, Number(m[1]));
  throw new Error(`unknown tokenizer '${spec}' (known: ${TOKENIZER_SPECS})`);
}

/** Rebuilds the tokenizer a checkpoint's config stores; `source` names the config in errors. */
export async function restoreTokenizer(value: unknown, source: string): Promise<Tokenizer> {
  const kind = (value as { kind?: unknown } | null)?.kind;
  try {
    if (kind === "char") return CharTokenizer.fromJSON(value);
    if (kind === "bpe") return BpeTokenizer.fromJSON(value);
    if (kind === "gpt2") return await loadGpt2Tokenizer();
  } catch (err) {
    throw new Error(`${source}: unreadable tokenizer: ${(err as Error).message}`);
  }
  throw new Error(`${source}: unreadable tokenizer (kind ${JSON.stringify(kind)}; known: char, bpe, gpt2)`);
}
