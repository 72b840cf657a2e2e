/**
 * The COCONUT-style coupled continuous model C (the paper's baseline in §5.2.1, after Hao et
 * al. 2024): an ordinary TransformerLM whose last hidden state (the final RMSNorm output, the
 * vector the tied head reads) is fed back as the next input vector for a number of continuous
 * steps, after which it decodes tokens. The steps stand in for the first answer tokens; the
 * tokens after them are trained with cross-entropy, backpropagating through every fed-back
 * state. No special tokens mark the steps: every example has them at the same positions.
 */
import { matmul } from "../engine/ops/linalg.js";
import { crossEntropy } from "../engine/ops/loss.js";
import { concatSeq, sliceSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { noisyLatent, type LatentNoise } from "./latent-noise.js";
import { SegmentMemory } from "./coconut-memory.js";
import type { TransformerLM } from "./transformer.js";

/** A TransformerLM used with continuous steps; it shares (and trains) the LM's weights. */
export class CoconutLM {
  constructor(readonly lm: TransformerLM) {}

  /**
   * The hidden states that predict answer tokens (B, 1 + m, D): runs the prompt (B, P), then
   * `latents` continuous steps, then the m answer tokens given as inputs (B, m) (or none).
   * Row 0 is the output after the last continuous step, which predicts answer token `latents`;
   * row j predicts answer token latents + j.
   */
  predictors(prompt: Tensor, latents: number, answerInputs: Tensor | null, noise: LatentNoise | null = null): Tensor {
    if (!Number.isInteger(latents) || latents < 0) throw new Error(`coconut: latents must be a non-negative integer, got ${latents}`);
    const memory = new SegmentMemory(this.lm);
    const h = memory.run(this.lm.embed(prompt));
    let last = sliceSeq(h, h.shape[1] - 1, 1); // (B, 1, D)
    for (let s = 0; s < latents; s++) last = memory.run(noise && noise.scale > 0 ? noisyLatent(last, noise) : last);
    if (!answerInputs || answerInputs.shape[1] === 0) return last;
    return concatSeq([last, memory.run(this.lm.embed(answerInputs))]);
  }

  /**
   * Mean cross-entropy of answer tokens latents … A−1 of i32 answers (B, A), the first
   * `latents` answer tokens being replaced by continuous steps (teacher forcing after them).
   */
  loss(prompt: Tensor, answer: Tensor, latents: number): Tensor {
    const [B, A] = answer.shape;
    if (latents >= A) throw new Error(`coconut: ${latents} continuous steps leave no answer token of ${A} to predict`);
    const inputs = latents < A - 1 ? columns(answer, latents, A - 1) : null;
    const logits = this.logitsFrom(this.predictors(prompt, latents, inputs));
    return crossEntropy(logits.reshape([B * (A - latents), -1]), columns(answer, latents, A).reshape([-1]));
  }

  /** Logits (B, n, vocab) through the tied head for hidden states (B, n, D). */
  logitsFrom(h: Tensor): Tensor {
    const [B, n, D] = h.shape;
    return matmul(h.reshape([B * n, D]), this.lm.params.get("wte.weight"), { transB: true }).reshape([B, n, this.lm.config.vocab]);
  }
}

/** Columns [from, to) of an i32 (B, L) tensor, as a new tensor (B, to − from). */
export function columns(t: Tensor, from: number, to: number): Tensor {
  const [B, L] = t.shape;
  if (!(0 <= from && from <= to && to <= L)) throw new Error(`columns: [${from}, ${to}) is outside ${t.describe()}`);
  const src = t.ints();
  const out = new Int32Array(B * (to - from));
  for (let b = 0; b < B; b++) out.set(src.subarray(b * L + from, b * L + to), b * (to - from));
  return t.engine.fromArray(out, [B, to - from], { dtype: "i32" });
}

