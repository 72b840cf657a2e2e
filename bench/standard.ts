/**
 * The standard workload: a tied-embedding GPT (vocab 512, d 256, 4 layers,
 * 4 heads, MLP 1024), batch 16 × 128 tokens, AdamW with clipping. Times full training steps
 * (forward, backward, clip, update) and inference forwards.
 */
import type { Engine } from "../src/engine/engine.js";
import { AdamW, clipFactor, gradNorm } from "../src/engine/optim.js";
import { Rng } from "../src/engine/rng.js";
import { BENCH_CONFIG, type TransformerConfig } from "../src/model/config.js";
import { TransformerLM } from "../src/model/transformer.js";

/** Sizes of a benchmark run. */
export interface WorkloadOptions {
  config?: TransformerConfig;
  batch?: number;
  seq?: number;
  warmup?: number;
  steps?: number;
  /** Only time training (the one-thread comparison). */
  skipInference?: boolean;
  /** Called after each timed step with its index and seconds (progress). */
  onStep?: (phase: string, step: number, seconds: number) => void;
}

/** Median tokens per second of training steps and of inference forwards. */
export interface WorkloadResult {
  trainTokS: number;
  inferTokS: number;
  trainStepMs: number[];
  finalLoss: number;
}

/** Runs the workload on an engine and returns median throughputs. */
export function runStandardWorkload(engine: Engine, options: WorkloadOptions = {}): WorkloadResult {
  const config = options.config ?? BENCH_CONFIG;
  const batch = options.batch ?? 16, seq = options.seq ?? 128;
  const warmup = options.warmup ?? 3, steps = options.steps ?? 10;
  const rng = new Rng(1);
  const model = new TransformerLM(engine, config, rng);
  const params = model.params.list();
  const opt = new AdamW(engine, params, { lr: 3e-4 });
  const data = Int32Array.from({ length: batch * (seq + 1) }, () => rng.int(config.vocab));
  const inputs = Int32Array.from({ length: batch * seq }, (_, i) => data[Math.floor(i / seq) * (seq + 1) + (i % seq)]);
  const targets = Int32Array.from({ length: batch * seq }, (_, i) => data[Math.floor(i / seq) * (seq + 1) + (i % seq) + 1]);

  const trainTimes: number[] = [];
  let finalLoss = NaN;
  for (let s = 0; s < warmup + steps; s++) {
    const t0 = performance.now();
    const x = engine.fromArray(inputs, [batch, seq], { dtype: "i32" });
    const y = engine.fromArray(targets, [batch, seq], { dtype: "i32" });
    const loss = model.loss(x, y);
    finalLoss = loss.item();
    engine.backward(loss);
    opt.update(3e-4, clipFactor(gradNorm(engine, params), 1));
    opt.zeroGrad();
    engine.endStep();
    const seconds = (performance.now() - t0) / 1000;
    if (s >= warmup) trainTimes.push(seconds);
    options.onStep?.("train", s, seconds);
  }

  const inferTimes: number[] = [];
  for (let s = 0; s < (options.skipInference ? 0 : warmup + steps); s++) {
    const t0 = performance.now();
    engine.noGrad(() => model.logits(engine.fromArray(inputs, [batch, seq], { dtype: "i32" })));
    engine.endStep();
    const seconds = (performance.now() - t0) / 1000;
    if (s >= warmup) inferTimes.push(seconds);
    options.onStep?.("infer", s, seconds);
  }
  const tokens = batch * seq;
  return {
    trainTokS: tokens / median(trainTimes),
    inferTokS: inferTimes.length ? tokens / median(inferTimes) : NaN,
    trainStepMs: trainTimes.map((t) => t * 1000),
    finalLoss,
  };
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
