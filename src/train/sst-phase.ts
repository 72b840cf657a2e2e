/**
 * Phase 2, self-supervised training (SST): the Reasoner in latent mode predicts, at every
 * masked position, the EMA target embedding of the next token; loss k·(1 − cos). The EMA
 * target is updated after each optimizer step.
 */
import type { Engine } from "../engine/engine.js";
import { batchInOrder, type Dataset, type LossPositions } from "../data/dataset.js";
import { collapseStats } from "../eval/collapse.js";
import type { Reasoner } from "../model/reasoner.js";
import { EMA_NAME } from "../model/reasoner.js";
import type { CheckpointConfig } from "./checkpoint.js";
import { batchTensors } from "./lm-phase.js";
import type { Phase } from "./loop.js";
import { groupToParams, paramsToGroup } from "./weights.js";

/** SST settings: the loss scale k and the EMA momentum. */
export interface SstSettings {
  k: number;
  momentum: number;
}

/** A phase training the Reasoner's latents against its EMA target embedding. */
export function sstPhase(engine: Engine, reasoner: Reasoner, config: CheckpointConfig, sst: SstSettings, evalData: Dataset | null, seq: number, loss: LossPositions): Phase {
  return {
    config,
    params: reasoner.lm.params.list(),
    loss(batch) {
      const { inputs, targets } = batchTensors(engine, batch);
      return { loss: reasoner.sstLoss(inputs, targets, sst.k).loss };
    },
    afterUpdate: () => reasoner.updateEma(sst.momentum),
    evaluate: evalData ? () => evaluateSst(engine, reasoner, evalData, seq, loss, sst.k) : undefined,
    bestMetric: { name: "loss", mode: "min" },
    weights: () => ({
      model: paramsToGroup(reasoner.lm.params),
      ema: new Map([[EMA_NAME, { shape: reasoner.ema.shape, data: reasoner.ema.view() }]]),
    }),
    restore(ckpt) {
      groupToParams(ckpt.model, reasoner.lm.params);
      const ema = ckpt.ema?.get(EMA_NAME);
      if (!ema) throw new Error(`checkpoint has no ${EMA_NAME}`);
      reasoner.ema.view().set(ema.data);
    },
  };
}

/** Eval SST loss, mean cosine to the target, and collapse diagnostics of the predicted latents. */
export function evaluateSst(engine: Engine, reasoner: Reasoner, data: Dataset, seq: number, loss: LossPositions, k: number, batchSize = 32): Record<string, number> {
  let lossSum = 0, count = 0;
  const D = reasoner.config.dModel;
  const sample: Float32Array[] = [];
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const mark = engine.heap.mark();
    const batch = batchInOrder(data, start, batchSize, seq, loss);
    const { inputs, targets } = batchTensors(engine, batch);
    const out = reasoner.sstLoss(inputs, targets, k);
    const n = batch.targets.reduce((s, t) => s + (t >= 0 ? 1 : 0), 0);
    lossSum += out.loss.item() * n;
    count += n;
    const lat = out.latents.view();
    batch.targets.forEach((t, i) => {
      if (t >= 0 && sample.length < 512) sample.push(lat.slice(i * D, (i + 1) * D));
    });
    engine.heap.release(mark);
  }
  const mean = count ? lossSum / count : 0;
  const stats = sample.length >= 2 ? collapseStats(concat(sample), D) : { meanPairwiseCos: NaN, effectiveRank: NaN, dimSpread: NaN };
  return { loss: mean, cos: 1 - mean / k, pairwise_cos: stats.meanPairwiseCos, eff_rank: stats.effectiveRank, dim_spread: stats.dimSpread };
}

function concat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}
