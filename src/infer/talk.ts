/** Turning a finished latent chain into tokens with a Mono- or Dual-Talker. */
import type { Tensor } from "../engine/tensor.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { MonoTalker } from "../model/mono-talker.js";
import { sampleToken, type SamplingOptions } from "./sampling.js";

/** One token per latent, all in one pass: ids (B, T). */
export function monoTalk(talker: MonoTalker, latents: Tensor, sampling: SamplingOptions = {}): number[][] {
  const logits = latents.engine.noGrad(() => talker.logits(latents));
  const [B, T, V] = logits.shape;
  const v = logits.view();
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => sampleToken(v.subarray((b * T + t) * V, (b * T + t + 1) * V), sampling)));
}

/** Options of autoregressive Dual-Talker decoding. */
export interface DualTalkOptions extends SamplingOptions {
  /** Decoder prefix per batch row (at least one token each, e.g. a start token). */
  prefix: number[][];
  maxTokens: number;
  /** Decoding of a row stops after this token. */
  stopToken?: number;
  /** Called with each chosen token; may return a replacement (to corrupt the Talker's output). */
  onToken?: (row: number, position: number, token: number) => number;
}

/**
 * Decodes each row autoregressively from its prefix, attending to the encoded chain. The
 * latents are encoded once; nothing decoded here can change them.
 */
export function dualTalk(talker: DualTalker, latents: Tensor, options: DualTalkOptions): number[][] {
  const e = latents.engine;
  const [B] = latents.shape;
  if (options.prefix.length !== B || options.prefix.some((p) => p.length === 0)) throw new Error(`dualTalk: need a non-empty prefix for each of ${B} rows`);
  const rows = options.prefix.map((p) => [...p]);
  const done = rows.map(() => false);
  const mark = e.heap.mark();
  const memory = e.noGrad(() => talker.encode(latents));
  for (let step = 0; step < options.maxTokens && done.some((d) => !d); step++) {
    const inner = e.heap.mark();
    const width = Math.max(...rows.map((r) => r.length));
    // Rows are right-padded to one width; each row reads its logits at its own last position.
    const ids = e.fromArray(rows.flatMap((r) => [...r, ...new Array(width - r.length).fill(r[r.length - 1])]), [B, width], { dtype: "i32" });
    const logits = e.noGrad(() => talker.decode(ids, memory)).view();
    const V = talker.config.stack.vocab;
    rows.forEach((r, b) => {
      if (done[b]) return;
      const at = (b * width + r.length - 1) * V;
      let token = sampleToken(logits.subarray(at, at + V), options);
      if (options.onToken) token = options.onToken(b, r.length, token);
      r.push(token);
      if (token === options.stopToken) done[b] = true;
    });
    e.heap.release(inner);
  }
  e.heap.release(mark);
  return rows;
}
