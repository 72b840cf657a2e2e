/**
 * A Transformer run one segment at a time, with gradients: each segment's queries attend to
 * the keys and values of every earlier segment, which are kept per layer and grown by
 * concatenation. This is how the COCONUT-style model unrolls its continuous steps: the prompt
 * is one segment, every fed-back hidden state is a one-position segment, and the answer tokens
 * are the last one. Run on the same inputs it equals one causal pass over their concatenation
 * (tested), while each step costs one position instead of a pass over the whole prefix.
 */
import { gelu } from "../engine/ops/activation.js";
import { attention } from "../engine/ops/attention.js";
import { add } from "../engine/ops/basic.js";
import { linear } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import { concatSeq, splitLast } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { softmaxScale } from "./config.js";
import { normQueryKey } from "./qk-norm.js";
import type { TransformerLM } from "./transformer.js";

/** Keys (after QK-Norm, before RoPE) and values of every layer, (B, length, attnDim) each. */
export class SegmentMemory {
  readonly keys: Array<Tensor | null>;
  readonly values: Array<Tensor | null>;
  length = 0;

  constructor(readonly lm: TransformerLM) {
    this.keys = new Array<Tensor | null>(lm.config.layers).fill(null);
    this.values = new Array<Tensor | null>(lm.config.layers).fill(null);
  }

  /** Runs input vectors x (B, n, D) as the next n positions; returns their final hidden states (B, n, D). */
  run(x: Tensor): Tensor {
    const c = this.lm.config;
    for (let i = 0; i < c.layers; i++) x = this.block(i, x);
    this.length += x.shape[1];
    return rmsNorm(x, this.lm.params.get("norm_f.weight"), c.normEps);
  }

  /** blockForward with the earlier segments' keys and values in front of this segment's. */
  private block(layer: number, x: Tensor): Tensor {
    const c = this.lm.config;
    const p = (name: string) => this.lm.params.get(`blocks.${layer}.${name}`);
    const [q, k, v] = splitLast(linear(rmsNorm(x, p("norm1.weight"), c.normEps), p("attn.qkv.weight")), [c.attnDim, c.attnDim, c.attnDim]);
    const [qn, kn] = normQueryKey(this.lm.params, c, `blocks.${layer}.attn`, q, k);
    const keys = this.keys[layer] ? concatSeq([this.keys[layer]!, kn]) : kn;
    const values = this.values[layer] ? concatSeq([this.values[layer]!, v]) : v;
    this.keys[layer] = keys;
    this.values[layer] = values;
    const a = attention(qn, keys, values, {
      heads: c.heads, causal: true, rope: { base: c.ropeBase, qPos0: this.length, kPos0: 0 }, scale: softmaxScale(c),
    });
    x = add(x, linear(a, p("attn.proj.weight")));
    return add(x, linear(gelu(linear(rmsNorm(x, p("norm2.weight"), c.normEps), p("mlp.fc.weight"))), p("mlp.proj.weight")));
  }
}
