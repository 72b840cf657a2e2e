/** One pre-norm Transformer block: QK-Norm attention with RoPE, then a GELU MLP. */
import { gelu } from "../engine/ops/activation.js";
import { attention } from "../engine/ops/attention.js";
import { add } from "../engine/ops/basic.js";
import { linear } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import { splitLast } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { softmaxScale, type TransformerConfig } from "./config.js";
import type { ParamStore } from "./params.js";
import { createQKNorm, normQueryKey } from "./qk-norm.js";

/** How a block attends: causally (decoders, the Reasoner) or over padded keys (encoders). */
export interface BlockContext {
  causal: boolean;
  mask?: Tensor | null;
}

/** Registers the parameters of block `i` under PyTorch-style names. */
export function createBlock(store: ParamStore, c: TransformerConfig, prefix: string): void {
  const std = 0.02;
  const projStd = 0.02 / Math.sqrt(2 * c.layers); // GPT-2: residual projections scaled by depth
  store.ones(`${prefix}.norm1.weight`, [c.dModel]);
  store.normal(`${prefix}.attn.qkv.weight`, [3 * c.attnDim, c.dModel], std);
  store.normal(`${prefix}.attn.proj.weight`, [c.dModel, c.attnDim], projStd);
  store.ones(`${prefix}.norm2.weight`, [c.dModel]);
  store.normal(`${prefix}.mlp.fc.weight`, [c.mlpDim, c.dModel], std);
  store.normal(`${prefix}.mlp.proj.weight`, [c.dModel, c.mlpDim], projStd);
  createQKNorm(store, c, `${prefix}.attn`);
}

/** x + attn(norm1(x)), then + mlp(norm2(x)); x is (B, T, dModel). */
export function blockForward(store: ParamStore, c: TransformerConfig, prefix: string, x: Tensor, ctx: BlockContext): Tensor {
  const p = (name: string) => store.get(`${prefix}.${name}`);
  const h = rmsNorm(x, p("norm1.weight"), c.normEps);
  const [q, k, v] = splitLast(linear(h, p("attn.qkv.weight")), [c.attnDim, c.attnDim, c.attnDim]);
  const [qn, kn] = normQueryKey(store, c, `${prefix}.attn`, q, k);
  const a = attention(qn, kn, v, {
    heads: c.heads, causal: ctx.causal, mask: ctx.mask, rope: { base: c.ropeBase, qPos0: 0, kPos0: 0 }, scale: softmaxScale(c),
  });
  x = add(x, linear(a, p("attn.proj.weight")));
  const m = linear(gelu(linear(rmsNorm(x, p("norm2.weight"), c.normEps), p("mlp.fc.weight"))), p("mlp.proj.weight"));
  return add(x, m);
}
