/**
 * The training stages of the CFG experiment, each in its own engine and checkpoint directory
 * (a killed run resumes inside the stage it was in): pretrain one Transformer on whole
 * sentences; from it, T (next-token training on the completions), R (its first blocks, SST
 * on the completions, then a Dual-Talker on R's rolled-out chains) and C (continuous steps).
 */
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { maxLength, type Dataset, type LossPositions } from "../data/dataset.js";
import { CoconutLM } from "../model/coconut.js";
import { DualTalker } from "../model/dual-talker.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import { TransformerLM } from "../model/transformer.js";
import { coconutPhase } from "../train/coconut-phase.js";
import { lmPhase } from "../train/lm-phase.js";
import { runTraining, type Phase, type TrainSettings } from "../train/loop.js";
import { sstPhase } from "../train/sst-phase.js";
import { answerSpan, talkerPhase } from "../train/talker-phase.js";
import { groupToParams } from "../train/weights.js";
import type { CfgPreset } from "./cfg-config.js";
import type { CfgSplits } from "./cfg-data.js";
import { addTiming } from "./run-timings.js";
import { cfgConfigs, loadTransformer, STAGE_DIRS, stageWeights, withEngine, type EngineOpener } from "./cfg-models.js";
import type { PhaseSchedule } from "./tree-config.js";

/** What every stage needs. */
export interface StageContext {
  open: EngineOpener;
  preset: CfgPreset;
  seed: number;
  outDir: string;
  splits: CfgSplits;
  log: (line: string) => void;
  /** Wall-clock seconds per stage over every invocation of this run (run-timings.ts). */
  seconds: Record<string, number>;
}

/** Runs the five training stages in order (each resumes or returns at once when done). */
export async function trainAll(ctx: StageContext): Promise<void> {
  const p = ctx.preset;
  const c = cfgConfigs(p, ctx.splits.train.vocab);
  const { pretrain, train } = ctx.splits;
  const val = p.validation ? ctx.splits.val : null;
  const span = answerSpan(train);
  const lmRole = (role: string) => ({ kind: "transformer", experiment: "cfg", role, model: c.transformer });

  await stage(ctx, "pretrain", pretrain, p.pretrain, "all", 1, (e) => {
    const lm = new TransformerLM(e, c.transformer, new Rng(ctx.seed));
    // Evaluated on the completion task itself: the loss and accuracy of the answer tokens.
    return lmPhase(e, lm, lmRole("pretrain"), val, seqOf(train), "answer");
  }, p.pretrainBatch);
  await stage(ctx, "baseline", train, p.baseline, "answer", 2, (e) => {
    const lm = loadTransformer(e, c.transformer, ctx.outDir, "pretrain");
    return lmPhase(e, lm, lmRole("baseline"), val, seqOf(train), "answer");
  });
  await stage(ctx, "sst", train, p.sst, "answer", 3, (e) => {
    const reasoner = new Reasoner(e, c.reasoner, new Rng(ctx.seed));
    // The pretrained checkpoint's names match for the blocks R keeps; deeper blocks are left behind.
    groupToParams(stageWeights(ctx.outDir, "pretrain").model, reasoner.lm.params);
    reasoner.resetEma();
    return sstPhase(e, reasoner, { kind: "reasoner", experiment: "cfg", model: c.reasoner, fromBlocks: p.reasonerBlocks }, p.sst, val, seqOf(train), "answer");
  });
  await stage(ctx, "talker", train, p.talkerTraining, "answer", 4, (e) => {
    const reasoner = new Reasoner(e, c.reasoner, new Rng(ctx.seed));
    const sst = stageWeights(ctx.outDir, "sst");
    groupToParams(sst.model, reasoner.lm.params);
    const ema = sst.ema?.get(EMA_NAME);
    if (!ema) throw new Error(`${join(ctx.outDir, STAGE_DIRS.sst)}: checkpoint has no EMA target`);
    reasoner.ema.view().set(ema.data);
    const talker = new DualTalker(e, c.talker, new Rng(ctx.seed + 4));
    const config = { kind: "talker", experiment: "cfg", talker: c.talker, reasoner: c.reasoner, answer: span, latents: p.talkerTraining.latents };
    return talkerPhase(e, reasoner, talker, config, span, p.talkerTraining.latents, seqOf(train), val);
  });
  await stage(ctx, "coconut", train, p.coconut, "answer", 5, (e) => {
    const model = new CoconutLM(loadTransformer(e, c.transformer, ctx.outDir, "pretrain"));
    const config = { kind: "coconut", experiment: "cfg", model: c.transformer, answer: span, latents: p.coconutLatents, curriculum: "stages 1..L-1 share the first half, stage L the second" };
    return coconutPhase(e, model, config, span, p.coconutLatents, p.coconut.steps, val);
  });
}

/** Rows of completion data hold the whole example: inputs are all but its last token. */
function seqOf(data: Dataset): number {
  return maxLength(data) - 1;
}

/** One training stage in a fresh engine, timed; `offset` separates the stages' data orders. */
async function stage(
  ctx: StageContext, name: keyof typeof STAGE_DIRS, data: Dataset, schedule: PhaseSchedule, loss: LossPositions, offset: number,
  build: (engine: Engine) => Phase, batch = ctx.preset.batch,
): Promise<void> {
  const t0 = performance.now();
  const settings: TrainSettings = {
    steps: schedule.steps, batch, seq: maxLength(data) - 1, lr: schedule.lr, minLr: schedule.lr / 10, warmup: schedule.warmup,
    weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clip: 1, evalEvery: ctx.preset.evalEvery,
    checkpointEvery: Math.max(50, Math.floor(schedule.steps / 8)), logEvery: Math.max(10, Math.floor(schedule.steps / 20)), seed: ctx.seed + offset, loss,
  };
  await withEngine(ctx.open, (engine) => {
    runTraining(engine, data, build(engine), settings, { outDir: join(ctx.outDir, STAGE_DIRS[name]), label: name, log: ctx.log });
  });
  addTiming(ctx.outDir, ctx.seconds, name, (performance.now() - t0) / 1000);
}
