/**
 * The Mono-Talker: decoder blocks and an LM head, no token embedding. It reads the finished
 * latent chain (B, T, latentDim) and emits one token per latent in a single pass; with
 * bidirectional attention every token sees the whole trajectory.
 */
import type { Engine } from "../engine/engine.js";
import { linear } from "../engine/ops/linalg.js";
import { rmsNorm } from "../engine/ops/norm.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { blockForward, createBlock } from "./block.js";
import { ParamStore } from "./params.js";
import { validateTalkerConfig, type TalkerConfig } from "./talker-config.js";

/** Decoder-only Talker: latents in, logits out. */
export class MonoTalker {
  readonly config: TalkerConfig;
  readonly params: ParamStore;

  constructor(engine: Engine, config: TalkerConfig, rng: Rng) {
    validateTalkerConfig(config);
    if (config.kind !== "mono") throw new Error(`MonoTalker needs kind 'mono', got '${config.kind}'`);
    this.config = config;
    this.params = new ParamStore(engine, rng);
    const s = config.stack;
    // Latents live on the unit sphere at the Reasoner's width; project when the widths differ.
    if (config.latentDim !== s.dModel) this.params.normal("in_proj.weight", [s.dModel, config.latentDim], 1 / Math.sqrt(config.latentDim));
    for (let i = 0; i < s.layers; i++) createBlock(this.params, s, `blocks.${i}`);
    this.params.ones("norm_f.weight", [s.dModel]);
    this.params.normal("lm_head.weight", [s.vocab, s.dModel], 0.02);
  }

  /** Logits (B, T, vocab): token t is read from latent t, with the whole chain in view. */
  logits(latents: Tensor): Tensor {
    const s = this.config.stack;
    let x = this.config.latentDim !== s.dModel ? linear(latents, this.params.get("in_proj.weight")) : latents;
    for (let i = 0; i < s.layers; i++) x = blockForward(this.params, s, `blocks.${i}`, x, { causal: this.config.causal });
    return linear(rmsNorm(x, this.params.get("norm_f.weight"), s.normEps), this.params.get("lm_head.weight"));
  }
}
