/**
 * The two kinds of model the few-shot harness evaluates, behind one interface. The coupled
 * Transformer generates token by token with stop sequences. The JEPA-Reasoner reads the whole
 * few-shot prompt as its context and rolls out latents until its stop rule fires: a latent
 * whose nearest EMA target row (by cosine) is the end token ends the chain, and that latent
 * is kept, or the budget runs out; only then does the Talker decode the finished chain (Dual:
 * from the prompt's last token, one token per latent, until it emits the end token; Mono: one
 * pass). Nothing the Talker emits reaches the chain, so stop sequences can only cut its text.
 */
import type { Engine } from "../engine/engine.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import { decodeUntil } from "../infer/decode-until.js";
import { rolloutUntil } from "../infer/rollout.js";
import type { SamplingOptions } from "../infer/sampling.js";
import { dualTalk, monoTalk } from "../infer/talk.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { MonoTalker } from "../model/mono-talker.js";
import type { Reasoner } from "../model/reasoner.js";
import type { TransformerLM } from "../model/transformer.js";

/** What a model produced for one prompt. */
export interface Completion {
  /** The continuation, the end token excluded. */
  tokens: number[];
  /** Decoding steps taken: generated tokens (coupled) or latents in the chain (JEPA). */
  steps: number;
}

/** A model the harness can evaluate: continues a prompt of token ids. */
export interface FewShotModel {
  readonly name: string;
  /** Up to maxSteps tokens (latents) after the prompt; `stop` may end token-level decoding early. */
  complete(prompt: readonly number[], maxSteps: number, stop: (tokens: readonly number[]) => boolean): Completion;
}

/** The coupled Transformer T: greedy (or sampled) generation that stops at the end token or a stop sequence. */
export function coupledModel(lm: TransformerLM, endId: number, sampling: SamplingOptions = {}): FewShotModel {
  return {
    name: "coupled Transformer",
    complete(prompt, maxSteps, stop) {
      const out = decodeUntil(lm, prompt, { maxNew: maxSteps, endId, stop }, sampling);
      return { tokens: out.tokens, steps: out.tokens.length + (out.ended ? 1 : 0) };
    },
  };
}

/** The JEPA-Reasoner with its Talker: the chain first (stop rule above), then the Talker's reading of it. */
export function jepaModel(engine: Engine, reasoner: Reasoner, talker: MonoTalker | DualTalker, endId: number, sampling: SamplingOptions = {}): FewShotModel {
  const kind = talker.config.kind;
  return {
    name: `JEPA-Reasoner + ${kind === "dual" ? "Dual" : "Mono"}-Talker`,
    complete(prompt, maxSteps) {
      return engine.noGrad(() => engine.scoped(() => {
        const ids = engine.fromArray(prompt, [1, prompt.length], { dtype: "i32" });
        const { latents, lengths } = rolloutUntil(reasoner, ids, { steps: maxSteps, stop: { table: reasoner.ema, token: endId } });
        const n = lengths[0];
        const chain = n < latents.shape[1] ? sliceSeq(latents, 0, n) : latents;
        const read = kind === "dual"
          ? dualTalk(talker as DualTalker, chain, { ...sampling, prefix: [[prompt[prompt.length - 1]]], maxTokens: n, stopToken: endId })[0].slice(1)
          : monoTalk(talker as MonoTalker, chain, sampling)[0];
        const end = read.indexOf(endId);
        return { tokens: end >= 0 ? read.slice(0, end) : read, steps: n };
      }));
    },
  };
}
