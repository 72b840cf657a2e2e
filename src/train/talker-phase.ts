/**
 * Phase 3: the Talker learns to read the latent chain while the Reasoner stays frozen. The
 * chain is the Reasoner's latents for the answer positions: teacher-forced (one parallel pass
 * over the true tokens) or free-running (rolled out from the prompt, as at inference).
 */
import type { Engine } from "../engine/engine.js";
import { crossEntropy } from "../engine/ops/loss.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { batchInOrder, type Batch, type Dataset } from "../data/dataset.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { MonoTalker } from "../model/mono-talker.js";
import { EMA_NAME, type Reasoner } from "../model/reasoner.js";
import { rollout } from "../infer/rollout.js";
import { argmax } from "../infer/sampling.js";
import type { CheckpointConfig, TensorGroup } from "./checkpoint.js";
import type { Phase } from "./loop.js";
import { groupToParams, paramsToGroup } from "./weights.js";

/** Where the Talker's training latents come from. */
export type LatentSource = "teacher" | "rollout";

/** The answer region every example shares: it starts at token `start` and spans `length` tokens. */
export interface AnswerSpan {
  start: number;
  length: number;
}

/** The answer span of a dataset; all examples must start their answer at the same index. */
export function answerSpan(data: Dataset): AnswerSpan {
  const start = data.examples[0].lossStart;
  const bad = data.examples.findIndex((e) => e.lossStart !== start);
  if (bad >= 0) throw new Error(`talker training needs one answer start for all examples: example ${bad} starts at ${data.examples[bad].lossStart}, the first at ${start}`);
  return { start, length: Math.max(...data.examples.map((e) => e.tokens.length)) - start };
}

/** The chain (B, length, D) of latents for the answer positions of a batch; no gradients. */
export function answerLatents(engine: Engine, reasoner: Reasoner, batch: Batch, span: AnswerSpan, source: LatentSource): Tensor {
  return engine.noGrad(() => {
    if (source === "rollout") {
      const prompt = new Int32Array(batch.batch * span.start);
      for (let b = 0; b < batch.batch; b++) prompt.set(batch.inputs.subarray(b * batch.seq, b * batch.seq + span.start), b * span.start);
      return rollout(reasoner, engine.fromArray(prompt, [batch.batch, span.start], { dtype: "i32" }), { steps: span.length });
    }
    const inputs = engine.fromArray(batch.inputs, [batch.batch, batch.seq], { dtype: "i32" });
    return sliceSeq(reasoner.latents(inputs), span.start - 1, span.length);
  });
}

/** Inputs and targets (B, length) of the answer region: the previous token and the answer token. */
function answerTokens(engine: Engine, batch: Batch, span: AnswerSpan): { previous: Tensor; targets: Tensor } {
  const B = batch.batch, L = span.length;
  const previous = new Int32Array(B * L), targets = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L; t++) {
      previous[b * L + t] = batch.inputs[b * batch.seq + span.start - 1 + t];
      targets[b * L + t] = batch.targets[b * batch.seq + span.start - 1 + t];
    }
  }
  return { previous: engine.fromArray(previous, [B, L], { dtype: "i32" }), targets: engine.fromArray(targets, [B, L], { dtype: "i32" }) };
}

/** Logits (B, length, vocab) of either Talker for a chain and the answer's previous tokens. */
export function talkerLogits(talker: MonoTalker | DualTalker, chain: Tensor, previous: Tensor, targets: Tensor): Tensor {
  if (talker.config.kind === "mono") return (talker as MonoTalker).logits(chain);
  const dual = talker as DualTalker;
  const t = targets.ints();
  const mask = chain.engine.fromArray(Float32Array.from(t, (v) => (v >= 0 ? 1 : 0)), targets.shape);
  return dual.decode(previous, dual.encode(chain, mask), mask);
}

/** A phase training the Talker on a frozen Reasoner's chains. */
export function talkerPhase(
  engine: Engine, reasoner: Reasoner, talker: MonoTalker | DualTalker, config: CheckpointConfig,
  span: AnswerSpan, source: LatentSource, seq: number, evalData: Dataset | null,
): Phase {
  const V = talker.config.stack.vocab;
  return {
    config,
    params: talker.params.list(),
    loss(batch) {
      const chain = answerLatents(engine, reasoner, batch, span, source);
      const { previous, targets } = answerTokens(engine, batch, span);
      const logits = talkerLogits(talker, chain, previous, targets);
      return { loss: crossEntropy(logits.reshape([-1, V]), targets.reshape([-1])) };
    },
    evaluate: evalData ? () => evaluateTalker(engine, reasoner, talker, evalData, span, seq) : undefined,
    bestMetric: { name: "exact", mode: "max" },
    weights: () => ({ model: talkerGroup(reasoner, talker), ema: new Map([[`reasoner.${EMA_NAME}`, { shape: reasoner.ema.shape, data: reasoner.ema.view() }]]) }),
    restore(ckpt) {
      groupToParams(ckpt.model, talker.params, "talker.");
      groupToParams(ckpt.model, reasoner.lm.params, "reasoner.");
    },
  };
}

/** Talker and frozen Reasoner weights in one group ("talker.*", "reasoner.*"): a self-contained model. */
export function talkerGroup(reasoner: Reasoner, talker: MonoTalker | DualTalker): TensorGroup {
  return paramsToGroup(reasoner.lm.params, "reasoner.", paramsToGroup(talker.params, "talker."));
}

/**
 * Token accuracy and exact match of the answers read from free-running rollouts (the real
 * inference path). Mono decodes greedily in one pass; Dual is scored with the true previous
 * tokens as decoder input (teacher-forced), which bounds its free decoding from above.
 */
export function evaluateTalker(engine: Engine, reasoner: Reasoner, talker: MonoTalker | DualTalker, data: Dataset, span: AnswerSpan, seq: number, batchSize = 64): Record<string, number> {
  let tokens = 0, correct = 0, exact = 0, rows = 0;
  const V = talker.config.stack.vocab;
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const mark = engine.heap.mark();
    const batch = batchInOrder(data, start, batchSize, seq, "answer");
    const chain = answerLatents(engine, reasoner, batch, span, "rollout");
    const { previous, targets } = answerTokens(engine, batch, span);
    const logits = talkerLogits(talker, chain, previous, targets).view();
    const t = targets.ints();
    for (let b = 0; b < batch.batch; b++) {
      let all = true;
      for (let i = 0; i < span.length; i++) {
        const target = t[b * span.length + i];
        if (target < 0) continue;
        const hit = argmax(logits.subarray((b * span.length + i) * V, (b * span.length + i + 1) * V)) === target;
        tokens++;
        if (hit) correct++;
        else all = false;
      }
      if (all) exact++;
      rows++;
    }
    engine.heap.release(mark);
  }
  return { token_acc: tokens ? correct / tokens : 0, exact: rows ? exact / rows : 0 };
}
