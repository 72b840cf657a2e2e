/**
 * The training loop every phase shares: AdamW with warmup + cosine, gradient clipping,
 * non-finite checks, periodic evaluation with best-checkpoint keeping, a progress line, a
 * JSONL metrics log, and checkpoints that resume bit-exactly (weights, optimizer moments,
 * EMA target, step, RNG and data position).
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkStepFinite } from "../engine/check.js";
import type { Engine } from "../engine/engine.js";
import { AdamW, clipFactor, gradNorm } from "../engine/optim.js";
import { Rng } from "../engine/rng.js";
import { warmupCosine, warmupCosineCycles, type CosineCycle } from "../engine/schedule.js";
import type { Tensor } from "../engine/tensor.js";
import { batchAt, type Batch, type Dataset, type LossPositions } from "../data/dataset.js";
import { writeFileAtomic } from "./atomic.js";
import { checkNoFileInWay, makeFolder } from "./folders.js";
import { hasCheckpoint, loadCheckpoint, recoverCheckpoint, saveCheckpoint, type Checkpoint, type CheckpointConfig, type TensorGroup } from "./checkpoint.js";
import { Progress } from "./progress.js";

/** Optimisation settings shared by all phases (saved with the checkpoint). */
export interface TrainSettings {
  steps: number;
  batch: number;
  seq: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  clip: number;
  evalEvery: number;
  checkpointEvery: number;
  logEvery: number;
  seed: number;
  loss: LossPositions;
  /** Warm restarts after the first cycle; `steps` counts them too, so the first cycle is `steps` − theirs. */
  restarts?: CosineCycle[];
}

/** What a phase plugs into the loop. */
export interface Phase {
  /** Checkpoint kind and configuration (model sizes, phase settings). */
  config: CheckpointConfig;
  params: Tensor[];
  /** The loss of one batch, plus values to log beside it. */
  loss(batch: Batch): { loss: Tensor; logs?: Record<string, number> };
  /** Runs after each optimizer step (the EMA update). */
  afterUpdate?(): void;
  /** Evaluation metrics; `bestMetric` among them decides the best checkpoint. */
  evaluate?(): Record<string, number>;
  bestMetric?: { name: string; mode: "min" | "max" };
  /** Weights to save: the model group and, for SST, the EMA target. */
  weights(): { model: TensorGroup; ema?: TensorGroup };
  /** Restores weights saved by weights(). */
  restore(ckpt: Checkpoint): void;
}

/** Where a run writes, and how it reports. */
export interface RunOptions {
  outDir: string;
  label: string;
  log: (line: string) => void;
}

/** The result of a finished run. */
export interface RunResult {
  finalLoss: number;
  lastEval: Record<string, number> | null;
  best: Checkpoint["state"]["best"];
  resumedFrom: number;
  seconds: number;
}

/** The learning rate at each step: one warmup-cosine cycle, or several when the settings have restarts. */
export function scheduleOf(s: TrainSettings): (step: number) => number {
  if (!s.restarts?.length) return warmupCosine(s.lr, s.warmup, s.steps, s.minLr);
  const first = s.steps - s.restarts.reduce((sum, c) => sum + c.steps, 0);
  if (first < 1) throw new Error(`training settings: the restarts take ${s.steps - first} of ${s.steps} steps, leaving none for the first cycle`);
  return warmupCosineCycles([{ steps: first, lr: s.lr, warmup: s.warmup, minLr: s.minLr }, ...s.restarts]);
}

/** Trains `phase` on `data`, resuming from outDir when it holds a checkpoint of the same run. */
export function runTraining(engine: Engine, data: Dataset, phase: Phase, settings: TrainSettings, run: RunOptions): RunResult {
  const start = performance.now();
  makeFolder(run.outDir);
  checkNoFileInWay(join(run.outDir, "best"));
  const opt = new AdamW(engine, phase.params, { lr: settings.lr, beta1: settings.beta1, beta2: settings.beta2, weightDecay: settings.weightDecay });
  const rng = new Rng(settings.seed);
  const schedule = scheduleOf(settings);
  let state: Checkpoint["state"] = { step: 0, dataPosition: 0, rng: rng.getState(), best: null };
  const fullConfig = { ...phase.config, training: settings };
  // This run owns outDir (the command holds its lock), so it finishes an interrupted save.
  for (const dir of [run.outDir, join(run.outDir, "best")]) recoverCheckpoint(dir);
  if (hasCheckpoint(run.outDir)) {
    state = resume(run.outDir, fullConfig, phase, opt, rng);
    run.log(`${run.label}: resuming from step ${state.step} in ${run.outDir}`);
  }
  const resumedFrom = state.step;
  trimMetrics(run.outDir, state.step);
  const progress = new Progress(run.label, settings.steps, state.step, run.log);
  const save = () => saveCheckpoint(run.outDir, { config: fullConfig, state: { ...state, rng: rng.getState() }, model: phase.weights().model, optimizer: optimizerGroup(opt), ema: phase.weights().ema ?? null });
  let finalLoss = NaN;
  let lastEval: Record<string, number> | null = null;

  for (let step = state.step; step < settings.steps; step++) {
    const batch = batchAt(data, state.dataPosition, settings.batch, settings.seq, settings.seed, settings.loss);
    const { loss, logs } = phase.loss(batch);
    finalLoss = loss.item();
    engine.backward(loss);
    checkStepFinite(engine, step, finalLoss, phase.params);
    const norm = gradNorm(engine, phase.params);
    const lr = schedule(step);
    opt.update(lr, clipFactor(norm, settings.clip));
    opt.zeroGrad();
    engine.endStep();
    phase.afterUpdate?.();
    state = { ...state, step: step + 1, dataPosition: state.dataPosition + settings.batch };
    const record: Record<string, number> = { step: step + 1, loss: finalLoss, lr, grad_norm: norm, ...logs };
    if (phase.evaluate && ((step + 1) % settings.evalEvery === 0 || step + 1 === settings.steps)) {
      lastEval = engine.noGrad(() => phase.evaluate!());
      engine.endStep();
      for (const [k, v] of Object.entries(lastEval)) record[`eval_${k}`] = v;
      state = keepBest(state, lastEval, phase, run, fullConfig);
    }
    appendFileSync(join(run.outDir, "metrics.jsonl"), JSON.stringify(record) + "\n");
    progress.tick(settings.batch * settings.seq);
    if ((step + 1) % settings.logEvery === 0 || step + 1 === settings.steps) {
      const shown: Record<string, number> = { loss: finalLoss, ...(logs ?? {}) };
      if (lastEval && (step + 1) % settings.evalEvery === 0) for (const [k, v] of Object.entries(lastEval)) shown[`eval ${k}`] = v;
      progress.report(step, shown);
    }
    if ((step + 1) % settings.checkpointEvery === 0 || step + 1 === settings.steps) save();
  }
  if (resumedFrom >= settings.steps) save();
  return { finalLoss, lastEval, best: state.best, resumedFrom, seconds: (performance.now() - start) / 1000 };
}

function resume(dir: string, config: CheckpointConfig, phase: Phase, opt: AdamW, rng: Rng): Checkpoint["state"] {
  const ckpt = loadCheckpoint(dir, [config.kind]);
  if (!sameRunConfig(ckpt.config, config)) throw new Error(`cannot resume ${dir}: its configuration differs from this run's (use another --out, or the same flags)`);
  phase.restore(ckpt);
  if (!ckpt.optimizer) throw new Error(`${dir}: checkpoint has no optimizer state to resume from`);
  opt.params.forEach((p, i) => {
    copyInto(opt.m[i], ckpt.optimizer!.get(`${p.name}.m`), dir);
    copyInto(opt.v[i], ckpt.optimizer!.get(`${p.name}.v`), dir);
  });
  opt.step = ckpt.state.step;
  rng.setState(ckpt.state.rng);
  return ckpt.state;
}

/**
 * Config fields added after checkpoints were first written, each placed before `training`: a
 * checkpoint saved without one is still the same run, and its next save records the field.
 */
const ADDED_FIELDS = ["tree"];

/** Whether a saved config is this run's: equal, or equal once the fields added since are left out. */
function sameRunConfig(saved: CheckpointConfig, config: CheckpointConfig): boolean {
  const text = (c: CheckpointConfig) => JSON.stringify(JSON.parse(JSON.stringify(c)));
  if (text(saved) === text(config)) return true;
  const older = Object.fromEntries(Object.entries(config).filter(([key]) => !(ADDED_FIELDS.includes(key) && !(key in saved))));
  return text(saved) === text(older as CheckpointConfig);
}

function copyInto(t: Tensor, saved: { data: Float32Array } | undefined, dir: string): void {
  if (!saved || saved.data.length !== t.size) throw new Error(`${dir}: checkpoint lacks ${t.name} or its size differs`);
  t.view().set(saved.data);
}

function optimizerGroup(opt: AdamW): TensorGroup {
  const g: TensorGroup = new Map();
  opt.params.forEach((p, i) => {
    g.set(`${p.name}.m`, { shape: p.shape, data: opt.m[i].view() });
    g.set(`${p.name}.v`, { shape: p.shape, data: opt.v[i].view() });
  });
  return g;
}

function keepBest(state: Checkpoint["state"], metrics: Record<string, number>, phase: Phase, run: RunOptions, config: CheckpointConfig): Checkpoint["state"] {
  const spec = phase.bestMetric;
  if (!spec || !(spec.name in metrics)) return state;
  const value = metrics[spec.name];
  const better = !state.best || (spec.mode === "min" ? value < state.best.value : value > state.best.value);
  if (!better) return state;
  const best = { metric: spec.name, value, step: state.step };
  const w = phase.weights();
  saveCheckpoint(join(run.outDir, "best"), { config, state: { ...state, best }, model: w.model, optimizer: null, ema: w.ema ?? null });
  return { ...state, best };
}

/** Drops metric lines past the resumed step, so a resumed log has no duplicates. */
function trimMetrics(dir: string, step: number): void {
  const path = join(dir, "metrics.jsonl");
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8").split("\n").filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
}
