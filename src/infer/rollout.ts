/**
 * Latent rollout: embed the prompt, then repeatedly append the normalised last-position output
 * as the next input vector. The chain depends only on the prompt and the Reasoner's weights
 * (and the noise generator, when noise is asked for): no token produced later can reach it.
 */
import { l2Normalize } from "../engine/ops/norm.js";
import { sliceSeq, writeSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { noisyLatent, type LatentNoise } from "../model/latent-noise.js";
import type { Reasoner } from "../model/reasoner.js";
import { nearestRows } from "../eval/cosine.js";
import { normalizeRows } from "../eval/mixed-latent.js";
import { forwardCached, KVCache } from "./kv-cache.js";


/**
 * A stop rule: a row's chain ends at the first latent whose nearest row of `table` (by
 * cosine, e.g. the EMA target embedding) is `token` (e.g. the end token); that latent is kept.
 */
export interface StopRule {
  table: Tensor;
  token: number;
}

/** Options of a rollout. */
export interface RolloutOptions {
  /** The number of latents, or the most when a stop rule is given. */
  steps: number;
  /** Use the KV cache (default) or recompute the whole prefix at every step. */
  cache?: boolean;
  noise?: LatentNoise | null;
  /** Called after each latent with the number made so far (a long rollout's progress line). */
  onStep?: (done: number) => void;
}

/** A rollout with a stop rule: the chain (B, steps, D) and how many latents each row kept. */
export interface StoppedRollout {
  latents: Tensor;
  lengths: number[];
}

/** Rolls out until every row has met the stop rule, or `steps` latents exist. */
export function rolloutUntil(reasoner: Reasoner, prompt: Tensor, options: RolloutOptions & { stop: StopRule }): StoppedRollout {
  const tracker = new StopTracker(options.stop, prompt.shape[0], reasoner.config.dModel);
  const latents = prompt.engine.noGrad(() => rolloutCached(reasoner, prompt, options, tracker));
  const used = Math.max(...tracker.lengths.map((l) => l || options.steps));
  return { latents: used < options.steps ? sliceSeq(latents, 0, used) : latents, lengths: tracker.lengths.map((l) => l || options.steps) };
}

/** Follows each row's latest latent and records where its chain met the stop rule. */
class StopTracker {
  /** Per row: the chain length once stopped, 0 while running. */
  readonly lengths: number[];
  private readonly unitRows: Float32Array;

  constructor(private readonly rule: StopRule, batch: number, private readonly dim: number) {
    const V = rule.table.shape[0];
    if (rule.table.rank !== 2 || rule.table.shape[1] !== dim || !Number.isInteger(rule.token) || rule.token < 0 || rule.token >= V) {
      throw new Error(`stop rule: needs a (vocab, ${dim}) table and a token in [0, ${V})`);
    }
    this.unitRows = normalizeRows(rule.table.view(), dim);
    this.lengths = new Array<number>(batch).fill(0);
  }

  /** Looks at latent `step` of every row of chain (B, S, D); says whether all rows have stopped. */
  update(chain: Tensor, step: number): boolean {
    const [B, S] = chain.shape;
    const v = chain.view();
    for (let b = 0; b < B; b++) {
      if (this.lengths[b]) continue;
      const latent = v.subarray((b * S + step) * this.dim, (b * S + step + 1) * this.dim);
      if (nearestRows(latent, this.unitRows, this.dim, 1)[0].id === this.rule.token) this.lengths[b] = step + 1;
    }
    return this.lengths.every((l) => l > 0);
  }
}

/** Latents (B, steps, D) rolled out from i32 prompt tokens (B, P); runs without gradients. */
export function rollout(reasoner: Reasoner, prompt: Tensor, options: RolloutOptions): Tensor {
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`rollout: steps must be a positive integer, got ${steps}`);
  const e = prompt.engine;
  return e.noGrad(() => (options.cache === false ? rolloutRecompute(reasoner, prompt, options) : rolloutCached(reasoner, prompt, options)));
}

// Both loops write each latent into `chain` and free the step's activations, so memory
// stays flat however long the chain grows.
function rolloutCached(reasoner: Reasoner, prompt: Tensor, options: RolloutOptions, tracker: StopTracker | null = null): Tensor {
  const e = prompt.engine;
  const [B, P] = prompt.shape;
  const c = reasoner.config;
  const cache = new KVCache(e, c.layers, B, P + options.steps, c.attnDim);
  const chain = e.zeros([B, options.steps, c.dModel]);
  for (let s = 0; s < options.steps; s++) {
    e.scoped(() => {
      const input = s === 0 ? reasoner.lm.embed(prompt) : sliceSeq(chain, s - 1, 1);
      writeSeq(chain, nextLatent(forwardCached(reasoner.lm, cache, input), options.noise ?? null), s);
    });
    options.onStep?.(s + 1);
    if (tracker?.update(chain, s)) break;
  }
  return chain;
}

function rolloutRecompute(reasoner: Reasoner, prompt: Tensor, options: RolloutOptions): Tensor {
  const e = prompt.engine;
  const [B, P] = prompt.shape;
  const D = reasoner.config.dModel;
  const inputs = e.empty([B, P + options.steps, D]);
  writeSeq(inputs, reasoner.lm.embed(prompt), 0);
  const chain = e.empty([B, options.steps, D]);
  for (let s = 0; s < options.steps; s++) {
    e.scoped(() => {
      const r = nextLatent(reasoner.lm.hiddenFrom(sliceSeq(inputs, 0, P + s)), options.noise ?? null);
      writeSeq(chain, r, s);
      if (s + 1 < options.steps) writeSeq(inputs, r, P + s);
    });
    options.onStep?.(s + 1);
  }
  return chain;
}

/** The normalised (and optionally noised) latent (B, 1, D) at the last position of hidden (B, T, D). */
function nextLatent(hidden: Tensor, noise: LatentNoise | null): Tensor {
  const last = l2Normalize(sliceSeq(hidden, hidden.shape[1] - 1, 1));
  return noise && noise.scale > 0 ? noisyLatent(last, noise) : last;
}

/** Engine-free summary of a chain: the norm of every latent (all 1 within rounding when noise is off). */
export function latentNorms(latents: Tensor): number[] {
  const D = latents.lastDim;
  const v = latents.view();
  return Array.from({ length: v.length / D }, (_, r) => Math.hypot(...v.subarray(r * D, (r + 1) * D)));
}

