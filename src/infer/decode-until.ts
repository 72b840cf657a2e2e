/**
 * Decoding one prompt with a coupled Transformer LM (the baseline T) and a KV cache until it
 * emits the end token, a caller's stop test fires (stop sequences), or a token budget is
 * spent. Greedy unless sampling options say otherwise. Each token is fed back: the coupled path.
 */
import { matmul } from "../engine/ops/linalg.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import type { TransformerLM } from "../model/transformer.js";
import { forwardCached, KVCache } from "./kv-cache.js";
import { sampleToken, type SamplingOptions } from "./sampling.js";

/** When decoding ends. */
export interface DecodeLimits {
  maxNew: number;
  endId: number;
  /** Called with the tokens so far (end excluded); true ends decoding. */
  stop?: (tokens: readonly number[]) => boolean;
}

/** The generated tokens (the end token excluded) and whether the end token ended them. */
export interface Decoded {
  tokens: number[];
  ended: boolean;
}

/** Continues the prompt token by token; runs without gradients and frees what it allocates. */
export function decodeUntil(lm: TransformerLM, prompt: readonly number[], limits: DecodeLimits, sampling: SamplingOptions = {}): Decoded {
  const e = lm.params.get("wte.weight").engine;
  if (prompt.length === 0) throw new Error("decodeUntil: the prompt is empty");
  const tokens: number[] = [];
  let ended = false;
  e.noGrad(() => e.scoped(() => {
    const cache = new KVCache(e, lm.config.layers, 1, prompt.length + limits.maxNew, lm.config.attnDim);
    let input: readonly number[] = prompt;
    while (tokens.length < limits.maxNew) {
      const next = e.scoped(() => nextToken(lm, cache, input, sampling));
      if (next === limits.endId) {
        ended = true;
        break;
      }
      tokens.push(next);
      if (limits.stop?.(tokens)) break;
      input = [next];
    }
  }));
  return { tokens, ended };
}

/** Runs the new input ids through the cached stack and picks the token after the last one. */
function nextToken(lm: TransformerLM, cache: KVCache, input: readonly number[], sampling: SamplingOptions): number {
  const e = lm.params.get("wte.weight").engine;
  const ids = e.fromArray(input, [1, input.length], { dtype: "i32" });
  const hidden = forwardCached(lm, cache, lm.embed(ids));
  const last = sliceSeq(hidden, input.length - 1, 1).reshape([1, lm.config.dModel]);
  return sampleToken(matmul(last, lm.params.get("wte.weight"), { transB: true }).view(), sampling);
}
