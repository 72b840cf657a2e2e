/**
 * Completing prompts with each model, in batches, greedily. T decodes token by token, each
 * token fed back. R rolls out its whole latent chain from the prompt (latent noise, if asked,
 * on every latent), then the Dual-Talker decodes one token per latent from the last prompt
 * token. C runs its continuous steps (noised, if asked), then decodes its tokens.
 */
import type { Engine } from "../engine/engine.js";
import type { Tensor } from "../engine/tensor.js";
import { greedyContinue } from "../infer/generate-lm.js";
import { rollout } from "../infer/rollout.js";
import type { LatentNoise } from "../model/latent-noise.js";
import { dualTalk } from "../infer/talk.js";
import type { CoconutLM } from "../model/coconut.js";
import { coconutGenerate } from "../infer/coconut-generate.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { Reasoner } from "../model/reasoner.js";
import type { TransformerLM } from "../model/transformer.js";

/** Runs fn on consecutive batches of prompts and concatenates the rows it returns. */
function inBatches(engine: Engine, prompts: readonly number[][], size: number, fn: (prompt: Tensor, rows: readonly number[][]) => number[][]): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < prompts.length; start += size) {
    const rows = prompts.slice(start, start + size);
    const mark = engine.heap.mark();
    out.push(...engine.noGrad(() => fn(engine.fromArray(rows.flat(), [rows.length, rows[0].length], { dtype: "i32" }), rows)));
    engine.heap.release(mark);
  }
  return out;
}

/** T: `steps` greedy tokens after each prompt. */
export function completeT(engine: Engine, lm: TransformerLM, prompts: readonly number[][], steps: number, batch: number): number[][] {
  return inBatches(engine, prompts, batch, (prompt) => greedyContinue(lm, prompt, steps));
}

/** R: a chain of `steps` latents per prompt, read by the Dual-Talker as `steps` tokens. */
export function completeR(
  engine: Engine, reasoner: Reasoner, talker: DualTalker, prompts: readonly number[][], steps: number, batch: number, noise: LatentNoise | null = null,
): number[][] {
  return inBatches(engine, prompts, batch, (prompt, rows) => {
    const chain = rollout(reasoner, prompt, { steps, noise });
    // The decoder starts from the last prompt token, as in Talker training.
    return dualTalk(talker, chain, { prefix: rows.map((r) => [r[r.length - 1]]), maxTokens: steps }).map((r) => r.slice(1));
  });
}

/** C: `latents` continuous steps, then `tokens` greedy tokens per prompt. */
export function completeC(
  engine: Engine, model: CoconutLM, prompts: readonly number[][], latents: number, tokens: number, batch: number, noise: LatentNoise | null = null,
): number[][] {
  return inBatches(engine, prompts, batch, (prompt) => coconutGenerate(model, prompt, { latents, tokens, noise }));
}
