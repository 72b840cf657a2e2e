/** Greedy decoding of a coupled Transformer LM (the baseline T) with a KV cache. */
import { matmul } from "../engine/ops/linalg.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import type { TransformerLM } from "../model/transformer.js";
import { forwardCached, KVCache } from "./kv-cache.js";
import { argmax } from "./sampling.js";

/**
 * Continues each prompt row (B, P) by up to maxNew greedy tokens; a row stops after
 * stopToken. Every produced token is fed back: this is the coupled path, where an early
 * error conditions everything after it.
 */
export function greedyContinue(lm: TransformerLM, prompt: Tensor, maxNew: number, stopToken = -1): number[][] {
  const e = prompt.engine;
  const [B, P] = prompt.shape;
  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  e.noGrad(() => {
    const cache = new KVCache(e, lm.config.layers, B, P + maxNew, lm.config.attnDim);
    let next: Int32Array | null = null;
    for (let s = 0; s < maxNew && done.some((d) => !d); s++) {
      e.scoped(() => {
        const input = next ? lm.embed(e.fromArray(next, [B, 1], { dtype: "i32" })) : lm.embed(prompt);
        const hidden = forwardCached(lm, cache, input);
        const last = sliceSeq(hidden, hidden.shape[1] - 1, 1).reshape([B, lm.config.dModel]);
        const logits = matmul(last, lm.params.get("wte.weight"), { transB: true }).view();
        const V = lm.config.vocab;
        next = Int32Array.from({ length: B }, (_, b) => argmax(logits.subarray(b * V, (b + 1) * V)));
        next.forEach((t, b) => {
          if (done[b]) return;
          out[b].push(t);
          if (t === stopToken) done[b] = true;
        });
      });
    }
  });
  return out;
}
