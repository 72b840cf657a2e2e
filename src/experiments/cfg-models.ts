/**
 * The CFG experiment's models: their configurations from a preset, and loading each from the
 * checkpoint its training stage wrote. Every stage runs in a fresh engine (memory is never
 * freed inside one, and at paper size one model's training state fills it), so models move
 * between stages through their checkpoint directories.
 */
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import type { TransformerConfig } from "../model/config.js";
import { CoconutLM } from "../model/coconut.js";
import { DualTalker } from "../model/dual-talker.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import type { TalkerConfig } from "../model/talker-config.js";
import { TransformerLM } from "../model/transformer.js";
import { loadCheckpoint, type TensorGroup } from "../train/checkpoint.js";
import { groupToParams } from "../train/weights.js";
import type { CfgPreset } from "./cfg-config.js";

/** Opens a fresh engine; the caller closes it. */
export type EngineOpener = () => Promise<Engine>;

/** Runs fn in a fresh engine and closes it afterwards. */
export async function withEngine<T>(open: EngineOpener, fn: (engine: Engine) => T): Promise<T> {
  const engine = await open();
  try {
    return fn(engine);
  } finally {
    await engine.close();
  }
}

/** Sizes of T and C (and the pretrained Transformer), of R, and of the Dual-Talker. */
export interface CfgConfigs {
  transformer: TransformerConfig;
  reasoner: TransformerConfig;
  talker: TalkerConfig;
}

/** The three configurations of a preset over a vocabulary. */
export function cfgConfigs(p: CfgPreset, vocab: number): CfgConfigs {
  const transformer = { ...p.transformer, vocab };
  const { encoderLayers, ...stack } = p.talker;
  return {
    transformer,
    reasoner: { ...transformer, layers: p.reasonerBlocks },
    talker: { kind: "dual", latentDim: transformer.dModel, stack: { ...stack, vocab }, encoderLayers, causal: false },
  };
}

/** Sub-directories of the run, one per training stage. */
export const STAGE_DIRS = { pretrain: "pretrain", baseline: "baseline", sst: "sst", talker: "talker", coconut: "coconut" } as const;

/** The weights a finished stage saved. */
export function stageWeights(outDir: string, stage: keyof typeof STAGE_DIRS): { model: TensorGroup; ema: TensorGroup | null } {
  const ckpt = loadCheckpoint(join(outDir, STAGE_DIRS[stage]));
  return { model: ckpt.model, ema: ckpt.ema };
}

/** A TransformerLM holding a stage's weights (pretrain, baseline or coconut). */
export function loadTransformer(engine: Engine, config: TransformerConfig, outDir: string, stage: "pretrain" | "baseline" | "coconut"): TransformerLM {
  const lm = new TransformerLM(engine, config, new Rng(0));
  groupToParams(stageWeights(outDir, stage).model, lm.params, "", join(outDir, STAGE_DIRS[stage]));
  return lm;
}

/** C: the coconut stage's weights. */
export function loadCoconut(engine: Engine, config: TransformerConfig, outDir: string): CoconutLM {
  return new CoconutLM(loadTransformer(engine, config, outDir, "coconut"));
}

/** R and its Dual-Talker from the talker stage's self-contained checkpoint. */
export function loadReasonerTalker(engine: Engine, c: CfgConfigs, outDir: string): { reasoner: Reasoner; talker: DualTalker } {
  const dir = join(outDir, STAGE_DIRS.talker);
  const w = stageWeights(outDir, "talker");
  const reasoner = new Reasoner(engine, c.reasoner, new Rng(0));
  groupToParams(w.model, reasoner.lm.params, "reasoner.", dir);
  const ema = w.ema?.get(`reasoner.${EMA_NAME}`);
  if (!ema) throw new Error(`${dir}: checkpoint has no EMA target`);
  reasoner.ema.view().set(ema.data);
  const talker = new DualTalker(engine, c.talker, new Rng(0));
  groupToParams(w.model, talker.params, "talker.", dir);
  return { reasoner, talker };
}
