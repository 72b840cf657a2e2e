/** Input-token noise for the CFG robustness test (paper §5.2): a fraction of tokens swapped for wrong terminals. */
import type { Rng } from "../engine/rng.js";

/** A corrupted copy of a sequence and the sorted positions that were changed. */
export interface Corruption<T> {
  tokens: T[];
  positions: number[];
}

/**
 * Replaces exactly round(p·n) distinct positions, chosen uniformly, each by a different symbol
 * drawn uniformly from the rest of `alphabet`. A fixed count (rather than independent coin flips)
 * makes the noise level of every sample equal to the nominal p, as the paper's "p% of tokens" reads.
 * Every token must be in the alphabet, so pad/BOS/EOS cannot be corrupted by accident.
 */
export function corruptTokens<T extends string | number>(tokens: readonly T[], p: number, alphabet: readonly T[], rng: Rng): Corruption<T> {
  if (!(p >= 0 && p <= 1)) throw new Error(`noise fraction p must be in [0, 1], got ${p}`);
  const symbols = [...new Set(alphabet)];
  if (symbols.length < 2) throw new Error(`the alphabet needs at least 2 distinct symbols to substitute, got ${symbols.length}`);
  const index = new Map(symbols.map((s, i) => [s, i]));
  tokens.forEach((tok, i) => {
    if (!index.has(tok)) throw new Error(`token ${JSON.stringify(tok)} at position ${i} is not in the alphabet [${symbols.join(", ")}]`);
  });
  const n = tokens.length;
  const count = Math.round(p * n);
  // Partial Fisher-Yates: the first `count` slots become a uniform sample without replacement.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const positions = order.slice(0, count).sort((a, b) => a - b);
  const out = tokens.slice();
  for (const pos of positions) {
    // Draw from the other k-1 symbols by skipping over the original's index.
    const r = rng.int(symbols.length - 1);
    const orig = index.get(out[pos])!;
    out[pos] = symbols[r >= orig ? r + 1 : r];
  }
  return { tokens: out, positions };
}
