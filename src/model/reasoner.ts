/**
 * The JEPA-Reasoner: a Transformer whose normalised output is a latent on the unit sphere.
 * Phase 1 trains it as an ordinary LM (L2 off, head tied to the embedding); from SST on, the
 * head is gone and every output goes through RMSNorm then L2. The EMA copy of the embedding
 * is the self-supervised target.
 */
import type { Engine } from "../engine/engine.js";
import { emaUpdate } from "../engine/ema.js";
import { embedding } from "../engine/ops/embedding.js";
import { cosineLoss } from "../engine/ops/loss.js";
import { l2Normalize } from "../engine/ops/norm.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import type { TransformerConfig } from "./config.js";
import { TransformerLM } from "./transformer.js";

/** Name of the EMA target embedding in checkpoints. */
export const EMA_NAME = "ema.wte.weight";

/** A Transformer used in latent mode, plus its EMA target embedding. */
export class Reasoner {
  readonly lm: TransformerLM;
  /** The EMA target embedding (vocab, dModel): persistent, never trained by gradients. */
  readonly ema: Tensor;

  constructor(engine: Engine, config: TransformerConfig, rng: Rng) {
    this.lm = new TransformerLM(engine, config, rng);
    const wte = this.lm.params.get("wte.weight");
    this.ema = engine.fromArray(wte.view(), wte.shape, { persistent: true, name: EMA_NAME });
  }

  /** The model's sizes. */
  get config(): TransformerConfig {
    return this.lm.config;
  }

  /** Unit-norm latents (B, T, D) for input vectors (B, T, D): RMSNorm, then L2. */
  latentsFrom(x: Tensor): Tensor {
    return l2Normalize(this.lm.hiddenFrom(x));
  }

  /** Teacher-forced latents (B, T, D): latent t is the prediction for token t + 1. */
  latents(tokens: Tensor): Tensor {
    return this.latentsFrom(this.lm.embed(tokens));
  }

  /**
   * The SST loss k·(1 − cos(latent_t, sg(E_ema[target_t]))), averaged over positions whose
   * target is not -1; one teacher-forced parallel pass.
   */
  sstLoss(tokens: Tensor, targets: Tensor, k: number): { loss: Tensor; latents: Tensor } {
    const e = tokens.engine;
    const t = targets.ints();
    const mask = e.fromArray(Float32Array.from(t, (v) => (v >= 0 ? 1 : 0)), [t.length]);
    const safe = e.fromArray(Int32Array.from(t, (v) => Math.max(v, 0)), [t.length], { dtype: "i32" });
    const latents = this.latents(tokens);
    // The EMA table never requires a gradient, so the target is a stop-gradient by construction.
    const target = embedding(this.ema, safe);
    const loss = cosineLoss(latents.reshape([t.length, this.config.dModel]), target, mask, k);
    return { loss, latents };
  }

  /** ema ← m·ema + (1 − m)·wte, after each optimizer step. */
  updateEma(momentum: number): void {
    emaUpdate(this.ema, this.lm.params.get("wte.weight"), momentum);
  }

  /** Resets the EMA target to the current embedding (at the start of SST). */
  resetEma(): void {
    this.ema.view().set(this.lm.params.get("wte.weight").view());
  }
}
