/** Choosing a token from logits: greedy, or temperature and top-k sampling with a seeded RNG. */
import type { Rng } from "../engine/rng.js";

/** How the Talker picks tokens. temperature 0 (default) is greedy. */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  rng?: Rng;
}

/** Picks one token id from a row of logits. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions = {}): number {
  const temperature = options.temperature ?? 0;
  if (!(temperature >= 0)) throw new Error(`temperature must be >= 0, got ${temperature}`);
  if (temperature === 0) return argmax(logits);
  if (!options.rng) throw new Error("sampling with temperature > 0 needs a seeded rng");
  const topK = options.topK ?? logits.length;
  if (!Number.isInteger(topK) || topK < 1) throw new Error(`topK must be a positive integer, got ${topK}`);
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  const top = logits[ids[0]];
  const weights = ids.map((i) => Math.exp((logits[i] - top) / temperature));
  let u = options.rng.uniform() * weights.reduce((s, w) => s + w, 0);
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
