/**
 * Latent workloads on the standard model sizes: an SST training step (teacher-forced scaled
 * cosine loss + EMA update), and latent rollout with the KV cache against recomputing the
 * whole prefix at every step.
 */
import type { Engine } from "../src/engine/engine.js";
import { AdamW, clipFactor, gradNorm } from "../src/engine/optim.js";
import { Rng } from "../src/engine/rng.js";
import { BENCH_CONFIG } from "../src/model/config.js";
import { Reasoner } from "../src/model/reasoner.js";
import { rollout } from "../src/infer/rollout.js";
import { median } from "./standard.js";

/** Median throughputs of the latent workloads. */
export interface LatentBenchResult {
  sstTokS: number;
  rolloutCachedLatentsS: number;
  rolloutRecomputeLatentsS: number;
}

/** Options: batch and sizes of the SST step and of the rollout. */
export interface LatentBenchOptions {
  warmup?: number;
  steps?: number;
  batch?: number;
  seq?: number;
  rolloutBatch?: number;
  promptLength?: number;
  rolloutSteps?: number;
}

/** Runs both latent workloads and returns their median throughputs. */
export function runLatentWorkloads(engine: Engine, o: LatentBenchOptions = {}): LatentBenchResult {
  const warmup = o.warmup ?? 3, steps = o.steps ?? 10, batch = o.batch ?? 16, seq = o.seq ?? 128;
  const rng = new Rng(2);
  const reasoner = new Reasoner(engine, BENCH_CONFIG, rng);
  const params = reasoner.lm.params.list();
  const opt = new AdamW(engine, params, { lr: 1e-4 });
  const tokens = Int32Array.from({ length: batch * seq }, () => rng.int(BENCH_CONFIG.vocab));
  const sstTimes: number[] = [];
  for (let s = 0; s < warmup + steps; s++) {
    const t0 = performance.now();
    const x = engine.fromArray(tokens, [batch, seq], { dtype: "i32" });
    const { loss } = reasoner.sstLoss(x, x, 4);
    engine.backward(loss);
    opt.update(1e-4, clipFactor(gradNorm(engine, params), 1));
    opt.zeroGrad();
    engine.endStep();
    reasoner.updateEma(0.98);
    if (s >= warmup) sstTimes.push((performance.now() - t0) / 1000);
  }
  const rb = o.rolloutBatch ?? 16, prompt = o.promptLength ?? 64, latents = o.rolloutSteps ?? 32;
  const promptIds = Int32Array.from({ length: rb * prompt }, () => rng.int(BENCH_CONFIG.vocab));
  const timeRollout = (cache: boolean) => {
    const times: number[] = [];
    for (let s = 0; s < 3; s++) {
      const t0 = performance.now();
      rollout(reasoner, engine.fromArray(promptIds, [rb, prompt], { dtype: "i32" }), { steps: latents, cache });
      engine.endStep();
      if (s > 0) times.push((performance.now() - t0) / 1000);
    }
    return (rb * latents) / median(times);
  };
  return {
    sstTokS: (batch * seq) / median(sstTimes),
    rolloutCachedLatentsS: timeRollout(true),
    rolloutRecomputeLatentsS: timeRollout(false),
  };
}
