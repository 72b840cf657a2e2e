/**
 * A byte-level BPE trained on the corpus: a small vocabulary for CPU-sized models that still
 * encodes any text (unseen characters fall back to their UTF-8 bytes, so nothing is unknown).
 * Ids: 0 <pad>, 1 <end>, 2..257 the bytes, then one id per learned merge in the order learned.
 * Text is first split into pieces as GPT-2 does (words with their leading space, punctuation
 * runs, whitespace), except that every digit is a piece of its own: numbers are then read
 * digit by digit, the same way in every context, which small models need for arithmetic.
 */
import type { Tokenizer } from "./tokenizer.js";

/** What a checkpoint stores: the merges, each a pair of ids, in the order learned. */
export interface BpeJSON {
  kind: "bpe";
  merges: Array<[number, number]>;
}

const SPECIALS = 2;
const BYTES = 256;
/** Smallest vocabulary: the two special tokens and the 256 bytes. */
export const BPE_MIN_VOCAB = SPECIALS + BYTES;

const PIECES = /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The pieces BPE works inside; merges never cross them. */
export function pretokenize(text: string): string[] {
  return text.match(PIECES) ?? [];
}

const pairKey = (a: number, b: number) => a * 65536 + b;

/** Byte-level BPE with learned merges. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = "bpe";
  readonly padId = 0;
  readonly endId = 1;
  readonly merges: ReadonlyArray<readonly [number, number]>;
  private readonly ranks = new Map<number, number>();
  private readonly bytes: Uint8Array[];
  private readonly cache = new Map<string, number[]>();

  constructor(merges: ReadonlyArray<readonly [number, number]>) {
    this.merges = merges;
    this.bytes = Array.from({ length: BPE_MIN_VOCAB }, (_, id) => (id < SPECIALS ? new Uint8Array(0) : Uint8Array.of(id - SPECIALS)));
    merges.forEach(([a, b], r) => {
      const id = BPE_MIN_VOCAB + r;
      if (![a, b].every((x) => Number.isInteger(x) && x >= SPECIALS && x < id)) throw new Error(`merge ${r} (${a}, ${b}) must join two earlier non-special ids`);
      if (this.ranks.has(pairKey(a, b))) throw new Error(`merge ${r} (${a}, ${b}) is repeated`);
      this.ranks.set(pairKey(a, b), r);
      const joined = new Uint8Array(this.bytes[a].length + this.bytes[b].length);
      joined.set(this.bytes[a]);
      joined.set(this.bytes[b], this.bytes[a].length);
      this.bytes.push(joined);
    });
  }

  /** Learns merges on the texts until the vocabulary has `vocabSize` tokens or no pair repeats. */
  static train(texts: readonly string[], vocabSize: number): BpeTokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < BPE_MIN_VOCAB || vocabSize > 65536) {
      throw new Error(`a BPE vocabulary must have from ${BPE_MIN_VOCAB} to 65536 tokens, got ${vocabSize}`);
    }
    const words = countPieces(texts);
    const merges: Array<[number, number]> = [];
    while (BPE_MIN_VOCAB + merges.length < vocabSize) {
      const best = mostFrequentPair(words);
      if (!best) break;
      const id = BPE_MIN_VOCAB + merges.length;
      merges.push(best);
      for (const w of words) w.ids = mergePair(w.ids, best[0], best[1], id);
    }
    return new BpeTokenizer(merges);
  }

  /** The tokenizer a checkpoint stored with toJSON(). */
  static fromJSON(value: unknown): BpeTokenizer {
    const merges = (value as { merges?: unknown }).merges;
    if (!Array.isArray(merges) || !merges.every((m) => Array.isArray(m) && m.length === 2)) throw new Error("'merges' must be a list of id pairs");
    return new BpeTokenizer(merges as Array<[number, number]>);
  }

  /** Vocabulary size: specials, bytes and merges. */
  get size(): number {
    return this.bytes.length;
  }

  /** Token ids of a text (any text: unseen characters become their bytes). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const piece of pretokenize(text)) out.push(...this.encodePiece(piece));
    return out;
  }

  /** The text of token ids: padding dropped, <end> shown as ⏎. */
  decode(ids: ArrayLike<number>): string {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new Error(`token id ${id} is outside the vocabulary of ${this.size}`);
      if (id === this.endId) chunks.push(new TextEncoder().encode("⏎"));
      else chunks.push(this.bytes[id]);
    }
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  }

  /** One token as readable text: its bytes as text, or <pad> / <end>. */
  tokenText(id: number): string {
    if (id === this.padId) return "<pad>";
    if (id === this.endId) return "<end>";
    return this.decode([id]);
  }

  /** What a checkpoint stores to rebuild the tokenizer. */
  toJSON(): BpeJSON {
    return { kind: "bpe", merges: this.merges.map(([a, b]) => [a, b]) };
  }

  /** Applies the merges to one piece, lowest rank first (the order they were learned). */
  private encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let ids = Array.from(new TextEncoder().encode(piece), (b) => b + SPECIALS);
    for (;;) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) bestRank = Math.min(bestRank, this.ranks.get(pairKey(ids[i], ids[i + 1])) ?? Infinity);
      if (bestRank === Infinity) break;
      const [a, b] = this.merges[bestRank];
      ids = mergePair(ids, a, b, BPE_MIN_VOCAB + bestRank);
    }
    if (this.cache.size > 50000) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }
}

interface Word {
  ids: number[];
  count: number;
}

function countPieces(texts: readonly string[]): Word[] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const p of pretokenize(t)) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, count]) => ({ ids: Array.from(new TextEncoder().encode(p), (b) => b + SPECIALS), count }));
}

/** The pair that occurs most often (ties: the smallest ids), or null when none occurs twice. */
function mostFrequentPair(words: readonly Word[]): [number, number] | null {
  const counts = new Map<number, number>();
  for (const w of words) {
    for (let i = 0; i + 1 < w.ids.length; i++) {
      const k = pairKey(w.ids[i], w.ids[i + 1]);
      counts.set(k, (counts.get(k) ?? 0) + w.count);
    }
  }
  let best = -1, bestCount = 1;
  for (const [k, c] of counts) if (c > bestCount || (c === bestCount && best >= 0 && k < best)) [best, bestCount] = [k, c];
  return best < 0 ? null : [Math.floor(best / 65536), best % 65536];
}

/** ids with every adjacent (a, b) replaced by `id`, left to right. */
function mergePair(ids: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else {
      out.push(ids[i]);
    }
  }
  return out;
}
