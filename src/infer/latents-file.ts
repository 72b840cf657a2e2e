/**
 * A rolled-out latent chain as a file (`jepa generate --latents FILE`), so that another
 * implementation can compare latents, not only tokens: a safetensors file holding one F32
 * tensor `latents` of shape (steps, dModel), row t the t-th latent, and metadata naming the
 * format, the checkpoint and the prompt's token ids (docs/checkpoint-format.md).
 */
import { serializeSafetensors } from "../engine/safetensors.js";

/** The `format` metadata value that marks a latents file. */
export const LATENTS_FORMAT = "jepa-latents/1";
/** Name of the chain's tensor in the file. */
export const LATENTS_TENSOR = "latents";

/** Where a chain came from: recorded in the file's metadata. */
export interface LatentsSource {
  checkpoint: string;
  promptTokens: number[];
}

/** The file's bytes for a chain of `steps` latents of width `dim` (row-major). */
export function latentsFileBytes(chain: Float32Array, steps: number, dim: number, source: LatentsSource): Uint8Array {
  if (chain.length !== steps * dim) throw new Error(`latents: ${chain.length} values are not ${steps} latents of width ${dim}`);
  const metadata = { format: LATENTS_FORMAT, checkpoint: source.checkpoint, prompt_tokens: JSON.stringify(source.promptTokens) };
  return serializeSafetensors([{ name: LATENTS_TENSOR, dtype: "F32", shape: [steps, dim], data: chain }], metadata);
}
