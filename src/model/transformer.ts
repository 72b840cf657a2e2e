/**
 * A decoder-only Transformer language model with tied embeddings: the Reasoner's phase-1
 * form and the coupled baseline. Token embedding → pre-norm blocks → RMSNorm → logits
 * through the transposed embedding.
 */
import type { Engine } from "../engine/engine.js";
import { embedding } from "../engine/ops/embedding.js";
import { matmul } from "../engine/ops/linalg.js";
import { crossEntropy } from "../engine/ops/loss.js";
import { rmsNorm } from "../engine/ops/norm.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { blockForward, createBlock, type BlockContext } from "./block.js";
import { validateConfig, type TransformerConfig } from "./config.js";
import { ParamStore } from "./params.js";

/** Embedding, blocks and final norm, with the LM head tied to the embedding. */
export class TransformerLM {
  readonly config: TransformerConfig;
  readonly params: ParamStore;

  constructor(engine: Engine, config: TransformerConfig, rng: Rng) {
    validateConfig(config);
    this.config = config;
    this.params = new ParamStore(engine, rng);
    this.params.normal("wte.weight", [config.vocab, config.dModel], 0.02);
    for (let i = 0; i < config.layers; i++) createBlock(this.params, config, `blocks.${i}`);
    this.params.ones("norm_f.weight", [config.dModel]);
  }

  /** Token embeddings (B, T, dModel) of i32 tokens (B, T). */
  embed(tokens: Tensor): Tensor {
    return embedding(this.params.get("wte.weight"), tokens);
  }

  /** Final hidden states (B, T, dModel) after the last norm, for input vectors (B, T, dModel). */
  hiddenFrom(x: Tensor, ctx: BlockContext = { causal: true }): Tensor {
    for (let i = 0; i < this.config.layers; i++) x = blockForward(this.params, this.config, `blocks.${i}`, x, ctx);
    return rmsNorm(x, this.params.get("norm_f.weight"), this.config.normEps);
  }

  /** Final hidden states (B, T, dModel) after the last norm, for i32 tokens (B, T). */
  hidden(tokens: Tensor, ctx: BlockContext = { causal: true }): Tensor {
    return this.hiddenFrom(this.embed(tokens), ctx);
  }

  /** Next-token logits (B, T, vocab) through the tied head. */
  logits(tokens: Tensor): Tensor {
    const h = this.hidden(tokens);
    const [B, T, D] = h.shape;
    return matmul(h.reshape([B * T, D]), this.params.get("wte.weight"), { transB: true }).reshape([B, T, this.config.vocab]);
  }

  /** Mean cross-entropy of the logits against i32 targets (B, T); -1 targets are ignored. */
  loss(tokens: Tensor, targets: Tensor): Tensor {
    return this.lossFromLogits(this.logits(tokens), targets);
  }

  /** Mean cross-entropy of given logits (B, T, vocab) against targets (B, T). */
  lossFromLogits(logits: Tensor, targets: Tensor): Tensor {
    return crossEntropy(logits.reshape([-1, this.config.vocab]), targets.reshape([-1]));
  }
}
