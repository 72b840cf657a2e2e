/**
 * Named model sizes: the paper's (Tables 2 and 3) and CPU-sized ones. The vocabulary comes
 * from the data, so presets leave it out.
 */
import type { TransformerConfig } from "./config.js";

/** Sizes of a Transformer stack without its vocabulary. */
export type StackSizes = Omit<TransformerConfig, "vocab">;

const base = { normEps: 1e-5, ropeBase: 10000 };

/** Reasoner / Transformer presets. */
export const MODEL_PRESETS: Record<string, StackSizes> = {
  /** For tests: a few thousand parameters per block. */
  tiny: { ...base, dModel: 32, layers: 2, heads: 2, attnDim: 32, mlpDim: 64 },
  /** A CPU-sized model for small tasks (about 0.8M parameters per 4 blocks). */
  small: { ...base, dModel: 128, layers: 4, heads: 4, attnDim: 128, mlpDim: 512 },
  /** The standard benchmark workload's sizes. */
  bench: { ...base, dModel: 256, layers: 4, heads: 4, attnDim: 256, mlpDim: 1024 },
  /** Table 2: the 42M tree-search Reasoner (latent 384, attention 768 over 16 heads, FFN 1536, 18 blocks). */
  "tree-paper": { ...base, dModel: 384, layers: 18, heads: 16, attnDim: 768, mlpDim: 1536 },
  /** Table 3: the CFG Reasoner (16 blocks of width 960, 16 heads, FFN 3840). */
  "cfg-paper": { ...base, dModel: 960, layers: 16, heads: 16, attnDim: 960, mlpDim: 3840 },
  /** Table 3: the CFG Transformer T and COCONUT-style C (24 blocks of width 960). */
  "cfg-paper-transformer": { ...base, dModel: 960, layers: 24, heads: 16, attnDim: 960, mlpDim: 3840 },
};

/** Talker presets: the stack sizes of the decoder (and encoder, for Dual). */
export const TALKER_PRESETS: Record<string, StackSizes & { encoderLayers: number }> = {
  tiny: { ...MODEL_PRESETS.tiny, encoderLayers: 1 },
  small: { ...base, dModel: 128, layers: 2, heads: 4, attnDim: 128, mlpDim: 512, encoderLayers: 2 },
  /** Table 2: the tree-search Mono-Talker (6 blocks, 8 heads). */
  "tree-paper": { ...base, dModel: 384, layers: 6, heads: 8, attnDim: 768, mlpDim: 1536, encoderLayers: 0 },
  /** Table 3: the CFG Dual-Talker (4 encoder + 4 decoder blocks). */
  "cfg-paper": { ...base, dModel: 960, layers: 4, heads: 16, attnDim: 960, mlpDim: 3840, encoderLayers: 4 },
};

/** The preset of this name, or an error listing the known ones. */
export function preset<T>(table: Record<string, T>, name: string, what: string): T {
  const p = table[name];
  if (!p) throw new Error(`unknown ${what} preset '${name}' (known: ${Object.keys(table).join(", ")})`);
  return p;
}
