/** Configuration of the Talkers, which turn a finished latent chain into tokens. */
import { validateConfig, type TransformerConfig } from "./config.js";

/** Mono: decoder blocks reading the latents, one token per latent, one pass. Dual: encoder + autoregressive decoder. */
export type TalkerKind = "mono" | "dual";

/** A Talker's sizes. `stack` sizes its blocks; `latentDim` is the Reasoner's latent width. */
export interface TalkerConfig {
  kind: TalkerKind;
  latentDim: number;
  /** Decoder blocks (Mono: all its blocks) use stack.layers; the Dual encoder uses encoderLayers. */
  stack: TransformerConfig;
  encoderLayers: number;
  /** Whether the Mono-Talker's attention over the latents is causal (default: bidirectional). */
  causal: boolean;
}

/** Throws one clear error for the first field out of range. */
export function validateTalkerConfig(c: TalkerConfig): void {
  if (c.kind !== "mono" && c.kind !== "dual") throw new Error(`talker: kind must be 'mono' or 'dual', got '${c.kind}'`);
  if (!Number.isInteger(c.latentDim) || c.latentDim < 1) throw new Error(`talker: latentDim must be a positive integer, got ${c.latentDim}`);
  if (c.kind === "dual" && (!Number.isInteger(c.encoderLayers) || c.encoderLayers < 1)) {
    throw new Error(`talker: encoderLayers must be a positive integer, got ${c.encoderLayers}`);
  }
  validateConfig(c.stack);
}
