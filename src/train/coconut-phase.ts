/**
 * Training the COCONUT-style model C. Every example is a prompt followed by an answer of A
 * tokens, all examples sharing the answer's start. A simplified version of COCONUT's
 * multi-stage curriculum: at stage k the first k answer tokens are replaced by k continuous
 * steps and answer tokens k … A−1 are the cross-entropy targets, backpropagated through the
 * steps. Stages 1 … L−1 share the first half of the schedule equally; the final stage L (the
 * model that is evaluated) trains for the second half. The optimizer is not reset between
 * stages.
 */
import type { Engine } from "../engine/engine.js";
import type { Tensor } from "../engine/tensor.js";
import { batchInOrder, type Batch, type Dataset } from "../data/dataset.js";
import { CoconutLM } from "../model/coconut.js";
import { coconutGenerate } from "../infer/coconut-generate.js";
import type { CheckpointConfig } from "./checkpoint.js";
import type { Phase } from "./loop.js";
import type { AnswerSpan } from "./talker-phase.js";
import { groupToParams, paramsToGroup } from "./weights.js";

/** The curriculum stage (number of continuous steps) at a 0-based step of a run of `steps`. */
export function coconutStage(step: number, steps: number, latents: number): number {
  const half = Math.floor(steps / 2);
  if (latents <= 1 || step >= half) return latents;
  return 1 + Math.floor((step * (latents - 1)) / half);
}

/** Prompt (B, start) and answer (B, length) tensors of a batch whose rows hold whole examples. */
export function splitBatch(engine: Engine, batch: Batch, span: AnswerSpan): { prompt: Tensor; answer: Tensor } {
  const { start, length } = span;
  if (batch.seq + 1 < start + length) throw new Error(`coconut: rows of ${batch.seq + 1} tokens cannot hold a prompt of ${start} and an answer of ${length}`);
  const prompt = new Int32Array(batch.batch * start), answer = new Int32Array(batch.batch * length);
  for (let b = 0; b < batch.batch; b++) {
    // The row's tokens are its inputs plus the last target (the inputs stop one short).
    const row = (t: number) => (t < batch.seq ? batch.inputs[b * batch.seq + t] : batch.targets[b * batch.seq + batch.seq - 1]);
    for (let t = 0; t < start; t++) prompt[b * start + t] = row(t);
    for (let t = 0; t < length; t++) answer[b * length + t] = row(start + t);
  }
  return {
    prompt: engine.fromArray(prompt, [batch.batch, start], { dtype: "i32" }),
    answer: engine.fromArray(answer, [batch.batch, length], { dtype: "i32" }),
  };
}

/** A phase training C with `latents` continuous steps on examples with the given answer span. */
export function coconutPhase(engine: Engine, model: CoconutLM, config: CheckpointConfig, span: AnswerSpan, latents: number, steps: number, evalData: Dataset | null): Phase {
  if (!Number.isInteger(latents) || latents < 1 || latents >= span.length) throw new Error(`coconut: latents must be in [1, ${span.length - 1}], got ${latents}`);
  let step = 0;
  return {
    config,
    params: model.lm.params.list(),
    loss(batch) {
      const stage = coconutStage(step, steps, latents);
      const { prompt, answer } = splitBatch(engine, batch, span);
      return { loss: model.loss(prompt, answer, stage), logs: { stage } };
    },
    afterUpdate: () => void step++,
    evaluate: evalData ? () => evaluateCoconut(engine, model, evalData, span, latents) : undefined,
    bestMetric: { name: "exact", mode: "max" },
    weights: () => ({ model: paramsToGroup(model.lm.params) }),
    restore(ckpt) {
      groupToParams(ckpt.model, model.lm.params);
      step = ckpt.state.step;
    },
  };
}

/**
 * Final-stage loss and, from free generation (continuous steps, then greedy tokens), the
 * accuracy of the tokens after the steps and their exact match.
 */
export function evaluateCoconut(engine: Engine, model: CoconutLM, data: Dataset, span: AnswerSpan, latents: number, batchSize = 64): Record<string, number> {
  let lossSum = 0, rows = 0, hits = 0, exact = 0;
  const tail = span.length - latents;
  const seq = span.start + span.length - 1;
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const mark = engine.heap.mark();
    const { prompt, answer } = splitBatch(engine, batchInOrder(data, start, batchSize, seq, "answer"), span);
    const B = prompt.shape[0];
    lossSum += model.loss(prompt, answer, latents).item() * B;
    const tokens = coconutGenerate(model, prompt, { latents, tokens: tail });
    const truth = answer.ints();
    tokens.forEach((row, b) => {
      const ok = row.map((t, i) => t === truth[b * span.length + latents + i]);
      hits += ok.filter(Boolean).length;
      if (ok.every(Boolean)) exact++;
    });
    rows += B;
    engine.heap.release(mark);
  }
  return { loss: rows ? lossSum / rows : 0, token_acc: rows ? hits / (rows * tail) : 0, exact: rows ? exact / rows : 0 };
}
