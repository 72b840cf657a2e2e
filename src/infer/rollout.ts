/**
 * Latent rollout: embed the prompt, then repeatedly append the normalised last-position output
 * as the next input vector. The chain depends only on the prompt and the Reasoner's weights
 * (and the noise generator, when noise is asked for): no token produced later can reach it.
 */
import { addGaussianNoise } from "../engine/ops/noise.js";
import { l2Normalize } from "../engine/ops/norm.js";
import { sliceSeq, writeSeq } from "../engine/ops/sequence.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import type { Reasoner } from "../model/reasoner.js";
import { forwardCached, KVCache } from "./kv-cache.js";

/** Gaussian noise on every latent: std = scale (absolute) or scale × the latent's largest |element|. */
export interface LatentNoise {
  scale: number;
  relativeToMax: boolean;
  rng: Rng;
}

/** Options of a rollout. */
export interface RolloutOptions {
  steps: number;
  /** Use the KV cache (default) or recompute the whole prefix at every step. */
  cache?: boolean;
  noise?: LatentNoise | null;
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
function rolloutCached(reasoner: Reasoner, prompt: Tensor, options: RolloutOptions): Tensor {
  const e = prompt.engine;
  const [B, P] = prompt.shape;
  const c = reasoner.config;
  const cache = new KVCache(e, c.layers, B, P + options.steps, c.attnDim);
  const chain = e.empty([B, options.steps, c.dModel]);
  for (let s = 0; s < options.steps; s++) {
    e.scoped(() => {
      const input = s === 0 ? reasoner.lm.embed(prompt) : sliceSeq(chain, s - 1, 1);
      writeSeq(chain, nextLatent(forwardCached(reasoner.lm, cache, input), options.noise ?? null), s);
    });
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
  }
  return chain;
}

/** The normalised (and optionally noised) latent (B, 1, D) at the last position of hidden (B, T, D). */
function nextLatent(hidden: Tensor, noise: LatentNoise | null): Tensor {
  const last = l2Normalize(sliceSeq(hidden, hidden.shape[1] - 1, 1));
  return noise && noise.scale > 0 ? addNoise(last, noise) : last;
}

function addNoise(latent: Tensor, noise: LatentNoise): Tensor {
  if (!noise.relativeToMax) return addGaussianNoise(latent, noise.scale, noise.rng);
  const D = latent.lastDim;
  const v = latent.view();
  const std = new Float32Array(v.length / D);
  for (let r = 0; r < std.length; r++) {
    let m = 0;
    for (let j = 0; j < D; j++) m = Math.max(m, Math.abs(v[r * D + j]));
    std[r] = noise.scale * m;
  }
  return addGaussianNoise(latent, std, noise.rng);
}

/** Engine-free summary of a chain: the norm of every latent (all 1 within rounding when noise is off). */
export function latentNorms(latents: Tensor): number[] {
  const D = latents.lastDim;
  const v = latents.view();
  return Array.from({ length: v.length / D }, (_, r) => Math.hypot(...v.subarray(r * D, (r + 1) * D)));
}

