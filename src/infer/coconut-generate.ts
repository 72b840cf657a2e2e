/** Inference of the COCONUT-style model: continuous steps from a prompt, then greedy tokens. */
import type { Engine } from "../engine/engine.js";
import { matmul } from "../engine/ops/linalg.js";
import { sliceSeq, writeSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { forwardCached, KVCache } from "./kv-cache.js";
import { noisyLatent, type LatentNoise } from "../model/latent-noise.js";
import { argmax } from "./sampling.js";
import type { CoconutLM } from "../model/coconut.js";

/** How many continuous steps and tokens to produce, and the noise added to every fed-back state. */
export interface CoconutGenerateOptions {
  latents: number;
  tokens: number;
  noise?: LatentNoise | null;
}

/**
 * For each prompt row (B, P): `latents` continuous steps (each last hidden state, noised when
 * asked, becomes the next input), then `tokens` greedy tokens, each fed back as in any coupled
 * LM. Returns the tokens per row. Uses a KV cache; it computes what CoconutLM.predictors
 * computes on the same inputs (tested), in memory that does not grow with the steps.
 */
export function coconutGenerate(model: CoconutLM, prompt: Tensor, o: CoconutGenerateOptions): number[][] {
  const e = prompt.engine;
  const lm = model.lm;
  const [B, P] = prompt.shape;
  const { dModel: D, vocab: V, layers, attnDim } = lm.config;
  const out: number[][] = Array.from({ length: B }, () => []);
  e.noGrad(() => {
    const cache = new KVCache(e, layers, B, P + o.latents + o.tokens, attnDim);
    const last = e.empty([B, 1, D]); // the newest last-position hidden state
    const step = (input: Tensor) => writeSeq(last, lastPosition(forwardCached(lm, cache, input)), 0);
    e.scoped(() => step(lm.embed(prompt)));
    for (let s = 0; s < o.latents; s++) e.scoped(() => step(o.noise && o.noise.scale > 0 ? noisyLatent(last, o.noise) : last));
    for (let t = 0; t < o.tokens; t++) {
      e.scoped(() => {
        const logits = matmul(last.reshape([B, D]), lm.params.get("wte.weight"), { transB: true }).view();
        const next = Int32Array.from({ length: B }, (_, b) => argmax(logits.subarray(b * V, (b + 1) * V)));
        next.forEach((id, b) => out[b].push(id));
        if (t + 1 < o.tokens) step(lm.embed(tokenTensor(e, next)));
      });
    }
  });
  return out;
}

function lastPosition(hidden: Tensor): Tensor {
  return sliceSeq(hidden, hidden.shape[1] - 1, 1);
}

function tokenTensor(e: Engine, ids: Int32Array): Tensor {
  return e.fromArray(ids, [ids.length, 1], { dtype: "i32" });
}
