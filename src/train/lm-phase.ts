/**
 * Next-token training of a Transformer LM: phase-1 pretraining of the Reasoner (tied head,
 * L2 off) and the coupled baseline T trained further on the same data.
 */
import type { Engine } from "../engine/engine.js";
import { batchInOrder, type Batch, type Dataset, type LossPositions } from "../data/dataset.js";
import type { TransformerLM } from "../model/transformer.js";
import type { Tensor } from "../engine/tensor.js";
import { argmax } from "../infer/sampling.js";
import type { Phase } from "./loop.js";
import type { CheckpointConfig } from "./checkpoint.js";
import { groupToParams, paramsToGroup } from "./weights.js";

/** Int32 tensors (B, T) of a batch's inputs and targets. */
export function batchTensors(engine: Engine, batch: Batch): { inputs: Tensor; targets: Tensor } {
  return {
    inputs: engine.fromArray(batch.inputs, [batch.batch, batch.seq], { dtype: "i32" }),
    targets: engine.fromArray(batch.targets, [batch.batch, batch.seq], { dtype: "i32" }),
  };
}

/** A phase that trains `model` with cross-entropy; evaluation reports loss and token accuracy. */
export function lmPhase(engine: Engine, model: TransformerLM, config: CheckpointConfig, evalData: Dataset | null, seq: number, loss: LossPositions): Phase {
  return {
    config,
    params: model.params.list(),
    loss(batch) {
      const { inputs, targets } = batchTensors(engine, batch);
      return { loss: model.loss(inputs, targets) };
    },
    evaluate: evalData ? () => evaluateLM(engine, model, evalData, seq, loss) : undefined,
    bestMetric: { name: "loss", mode: "min" },
    weights: () => ({ model: paramsToGroup(model.params) }),
    restore: (ckpt) => groupToParams(ckpt.model, model.params),
  };
}

/** Mean cross-entropy and next-token accuracy over every target position of a dataset. */
export function evaluateLM(engine: Engine, model: TransformerLM, data: Dataset, seq: number, loss: LossPositions, batchSize = 32): Record<string, number> {
  let lossSum = 0, count = 0, correct = 0;
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const mark = engine.heap.mark();
    const batch = batchInOrder(data, start, batchSize, seq, loss);
    const { inputs, targets } = batchTensors(engine, batch);
    const logits = model.logits(inputs);
    const n = batch.targets.reduce((s, t) => s + (t >= 0 ? 1 : 0), 0);
    lossSum += model.lossFromLogits(logits, targets).item() * n;
    count += n;
    const v = logits.view(), V = model.config.vocab;
    batch.targets.forEach((t, i) => {
      if (t >= 0 && argmax(v.subarray(i * V, (i + 1) * V)) === t) correct++;
    });
    engine.heap.release(mark);
  }
  return { loss: count ? lossSum / count : 0, accuracy: count ? correct / count : 0 };
}
