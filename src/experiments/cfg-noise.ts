/**
 * The two noise definitions of the CFG experiment. Token noise: round(p · prefix) distinct
 * prompt terminals, chosen uniformly, each replaced by a different terminal (src/data/token-noise.ts);
 * <bos> is never touched, and the truth stays the clean sentence's continuation. Latent noise:
 * N(0, σ²) added to every latent a model feeds back, σ = level × that latent's largest
 * absolute element, drawn afresh at every step.
 */
import { Rng } from "../engine/rng.js";
import { corruptTokens } from "../data/token-noise.js";
import type { LatentNoise } from "../model/latent-noise.js";
import type { Completion } from "./cfg-data.js";

/** The seeded stream of one noise level, shared by every model so they all see the same corruptions. */
export function noiseRng(seed: number, kind: "token" | "latent", level: number): Rng {
  return new Rng(seed * 1009 + (kind === "token" ? 100_000 : 200_000) + Math.round(level * 10_000));
}

/** The prompts with round(p · prefix) terminals replaced; the first token (<bos>) is kept. */
export function noisyPrompts(tests: readonly Completion[], p: number, terminals: readonly number[], rng: Rng): number[][] {
  return tests.map((c) => [c.prompt[0], ...corruptTokens(c.prompt.slice(1), p, terminals, rng).tokens]);
}

/** Latent noise of level σ (relative to each latent's largest element), or null for σ = 0. */
export function latentNoise(sigma: number, rng: Rng): LatentNoise | null {
  if (!(sigma >= 0)) throw new Error(`latent noise level must be >= 0, got ${sigma}`);
  return sigma > 0 ? { scale: sigma, relativeToMax: true, rng } : null;
}
