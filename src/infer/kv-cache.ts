/**
 * Incremental decoding of a causal Transformer with a key/value cache: each call runs only the
 * new positions, attending to the cached (already rotated) keys and values of earlier ones.
 * Inference only (no gradients).
 */
import { attentionForward, ropeForward } from "../engine/attention-kernels.js";
import type { Engine } from "../engine/engine.js";
import { gelu } from "../engine/ops/activation.js";
import { add } from "../engine/ops/basic.js";
import { linear } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import { splitLast } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import type { TransformerLM } from "../model/transformer.js";
import { softmaxScale } from "../model/config.js";
import { normQueryKey } from "../model/qk-norm.js";

/** Rotated keys and values of every layer, (B, capacity, attnDim) each, and how many are filled. */
export class KVCache {
  readonly keys: Tensor[];
  readonly values: Tensor[];
  readonly batch: number;
  readonly capacity: number;
  length = 0;

  constructor(engine: Engine, layers: number, batch: number, capacity: number, attnDim: number) {
    this.batch = batch;
    this.capacity = capacity;
    this.keys = Array.from({ length: layers }, () => engine.empty([batch, capacity, attnDim]));
    this.values = Array.from({ length: layers }, () => engine.empty([batch, capacity, attnDim]));
  }
}

/** Runs new input vectors x (B, n, D) through the stack; returns their final hidden states (B, n, D). */
export function forwardCached(lm: TransformerLM, cache: KVCache, x: Tensor): Tensor {
  const [B, n] = x.shape;
  if (B !== cache.batch) throw new Error(`forwardCached: batch ${B} does not match the cache's ${cache.batch}`);
  if (cache.length + n > cache.capacity) throw new Error(`forwardCached: ${cache.length + n} positions exceed the cache capacity ${cache.capacity}`);
  return x.engine.noGrad(() => {
    for (let i = 0; i < lm.config.layers; i++) x = cachedBlock(lm, i, cache, x);
    cache.length += n;
    return rmsNorm(x, lm.params.get("norm_f.weight"), lm.config.normEps);
  });
}

function cachedBlock(lm: TransformerLM, layer: number, cache: KVCache, x: Tensor): Tensor {
  const c = lm.config;
  const p = (name: string) => lm.params.get(`blocks.${layer}.${name}`);
  const e = x.engine;
  const [B, n] = x.shape;
  const A = c.attnDim, H = c.heads, dh = A / H, pos = cache.length;
  const [q, k, v] = splitLast(linear(rmsNorm(x, p("norm1.weight"), c.normEps), p("attn.qkv.weight")), [A, A, A]);
  // normQueryKey may return q and k themselves ("none"); RoPE below rotates in place, which is
  // safe because they are this step's own temporaries.
  const [qn, kn] = normQueryKey(lm.params, c, `blocks.${layer}.attn`, q, k);
  ropeForward(e.pool, { x: qn.ptr, out: qn.ptr, B, T: n, H, dh, pos0: pos, base: c.ropeBase });
  ropeForward(e.pool, { x: kn.ptr, out: kn.ptr, B, T: n, H, dh, pos0: pos, base: c.ropeBase });
  appendRows(e, kn, cache.keys[layer], pos, cache.capacity);
  appendRows(e, v, cache.values[layer], pos, cache.capacity);
  const out = e.empty([B, n, A]);
  const lse = e.empty([B, H, n]);
  // The cache's rows per batch entry are `capacity` apart, so attend one batch entry at a time.
  for (let b = 0; b < B; b++) {
    attentionForward(e.pool, e.heap, {
      q: qn.ptr + b * n * A * 4, k: cache.keys[layer].ptr + b * cache.capacity * A * 4, v: cache.values[layer].ptr + b * cache.capacity * A * 4,
      o: out.ptr + b * n * A * 4, lse: lse.ptr + b * H * n * 4, B: 1, Tq: n, Tk: pos + n, H, dh, causal: true, scale: softmaxScale(c),
    });
  }
  x = add(x, linear(out, p("attn.proj.weight")));
  return add(x, linear(gelu(linear(rmsNorm(x, p("norm2.weight"), c.normEps), p("mlp.fc.weight"))), p("mlp.proj.weight")));
}

/** Copies rows (B, n, A) into the cache (B, capacity, A) at position pos. */
function appendRows(e: Engine, src: Tensor, cache: Tensor, pos: number, capacity: number): void {
  const [B, n, A] = src.shape;
  e.runRows("copy_rows", [src.ptr, cache.ptr + pos * A * 4, B, n, A, n * A, A, capacity * A, A, 0], B * n, A * 4);
}
