/**
 * The Dual-Talker: an encoder over the latent chain (bidirectional, padding-masked) and an
 * autoregressive decoder with its own token embedding, causal self-attention and
 * cross-attention to the encoded chain. Its LM head is tied to its own embedding.
 */
import type { Engine } from "../engine/engine.js";
import { embedding } from "../engine/ops/embedding.js";
import { linear, matmul } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { blockForward, createBlock } from "./block.js";
import { createCrossBlock, crossBlockForward } from "./cross-block.js";
import { ParamStore } from "./params.js";
import { validateTalkerConfig, type TalkerConfig } from "./talker-config.js";

/** Encoder-decoder Talker: latents and a token prefix in, next-token logits out. */
export class DualTalker {
  readonly config: TalkerConfig;
  readonly params: ParamStore;

  constructor(engine: Engine, config: TalkerConfig, rng: Rng) {
    validateTalkerConfig(config);
    if (config.kind !== "dual") throw new Error(`DualTalker needs kind 'dual', got '${config.kind}'`);
    this.config = config;
    this.params = new ParamStore(engine, rng);
    const s = config.stack;
    if (config.latentDim !== s.dModel) this.params.normal("in_proj.weight", [s.dModel, config.latentDim], 1 / Math.sqrt(config.latentDim));
    const enc = this.encoderConfig();
    for (let i = 0; i < config.encoderLayers; i++) createBlock(this.params, enc, `encoder.${i}`);
    this.params.ones("encoder_norm.weight", [s.dModel]);
    this.params.normal("wte.weight", [s.vocab, s.dModel], 0.02);
    for (let i = 0; i < s.layers; i++) createCrossBlock(this.params, s, `decoder.${i}`);
    this.params.ones("norm_f.weight", [s.dModel]);
  }

  /** The encoded chain (B, M, D) of latents (B, M, latentDim); mask (B, M) marks real latents. */
  encode(latents: Tensor, mask: Tensor | null = null): Tensor {
    const s = this.config.stack;
    let x = this.config.latentDim !== s.dModel ? linear(latents, this.params.get("in_proj.weight")) : latents;
    const enc = this.encoderConfig();
    for (let i = 0; i < this.config.encoderLayers; i++) x = blockForward(this.params, enc, `encoder.${i}`, x, { causal: false, mask });
    return rmsNorm(x, this.params.get("encoder_norm.weight"), s.normEps);
  }

  /** Next-token logits (B, T, vocab) for decoder tokens (B, T) given the encoded chain. */
  decode(tokens: Tensor, memory: Tensor, memoryMask: Tensor | null = null): Tensor {
    const s = this.config.stack;
    const wte = this.params.get("wte.weight");
    let x = embedding(wte, tokens);
    for (let i = 0; i < s.layers; i++) x = crossBlockForward(this.params, s, `decoder.${i}`, x, memory, memoryMask);
    const h = rmsNorm(x, this.params.get("norm_f.weight"), s.normEps);
    const [B, T, D] = h.shape;
    return matmul(h.reshape([B * T, D]), wte, { transB: true }).reshape([B, T, s.vocab]);
  }

  /** Encoder layers share the decoder's widths. */
  private encoderConfig() {
    return { ...this.config.stack, layers: this.config.encoderLayers };
  }
}
