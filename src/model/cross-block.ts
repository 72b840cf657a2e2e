/**
 * A decoder block with cross-attention (the Dual-Talker's decoder): causal self-attention with
 * RoPE, then attention from the tokens to the encoded latent chain, then a GELU MLP. Pre-norm,
 * QK-Norm everywhere; no RoPE across the two sequences, whose positions do not correspond.
 */
import { gelu } from "../engine/ops/activation.js";
import { attention } from "../engine/ops/attention.js";
import { add } from "../engine/ops/basic.js";
import { linear } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import { splitLast } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { createBlock } from "./block.js";
import { softmaxScale, type TransformerConfig } from "./config.js";
import type { ParamStore } from "./params.js";
import { createQKNorm, normQueryKey } from "./qk-norm.js";

/** Registers a self-attention block plus the cross-attention parameters under `prefix`. */
export function createCrossBlock(store: ParamStore, c: TransformerConfig, prefix: string): void {
  createBlock(store, c, prefix);
  store.ones(`${prefix}.norm_x.weight`, [c.dModel]);
  store.normal(`${prefix}.cross.q.weight`, [c.attnDim, c.dModel], 0.02);
  store.normal(`${prefix}.cross.kv.weight`, [2 * c.attnDim, c.dModel], 0.02);
  store.normal(`${prefix}.cross.proj.weight`, [c.dModel, c.attnDim], 0.02 / Math.sqrt(2 * c.layers));
  createQKNorm(store, c, `${prefix}.cross`);
}

/** Runs the block on tokens x (B, T, D) attending to memory (B, M, D) with its padding mask. */
export function crossBlockForward(
  store: ParamStore, c: TransformerConfig, prefix: string, x: Tensor, memory: Tensor, memoryMask: Tensor | null,
): Tensor {
  // Self-attention and MLP come from the plain block; cross-attention goes between them, so
  // run the plain block's attention half by hand and reuse its MLP half.
  const p = (name: string) => store.get(`${prefix}.${name}`);
  const h = rmsNorm(x, p("norm1.weight"), c.normEps);
  const [q, k, v] = splitLast(linear(h, p("attn.qkv.weight")), [c.attnDim, c.attnDim, c.attnDim]);
  const [qn, kn] = normQueryKey(store, c, `${prefix}.attn`, q, k);
  const self = attention(qn, kn, v, {
    heads: c.heads, causal: true, rope: { base: c.ropeBase, qPos0: 0, kPos0: 0 }, scale: softmaxScale(c),
  });
  x = add(x, linear(self, p("attn.proj.weight")));
  x = add(x, crossAttention(store, c, prefix, rmsNorm(x, p("norm_x.weight"), c.normEps), memory, memoryMask));
  const m = linear(gelu(linear(rmsNorm(x, p("norm2.weight"), c.normEps), p("mlp.fc.weight"))), p("mlp.proj.weight"));
  return add(x, m);
}

function crossAttention(store: ParamStore, c: TransformerConfig, prefix: string, h: Tensor, memory: Tensor, mask: Tensor | null): Tensor {
  const p = (name: string) => store.get(`${prefix}.${name}`);
  const [k, v] = splitLast(linear(memory, p("cross.kv.weight")), [c.attnDim, c.attnDim]);
  const [qn, kn] = normQueryKey(store, c, `${prefix}.cross`, linear(h, p("cross.q.weight")), k);
  const a = attention(qn, kn, v, { heads: c.heads, causal: false, mask, scale: softmaxScale(c) });
  return linear(a, p("cross.proj.weight"));
}

