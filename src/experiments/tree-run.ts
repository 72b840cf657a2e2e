/**
 * A finished tree run read back from its folder for scoring: the Talker checkpoint (Reasoner,
 * EMA target, Mono-Talker), the coupled T from baseline/ when present, and from metrics.json
 * the seed and data fields its splits were drawn with. Every check names what is missing, so an
 * unfinished run or another command's folder is one clear line, not a half-scored result.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { validateConfig, type TransformerConfig } from "../model/config.js";
import { TransformerLM } from "../model/transformer.js";
import { hasCheckpoint, loadCheckpoint, type Checkpoint } from "../train/checkpoint.js";
import { groupToParams } from "../train/weights.js";
import type { TreeModels } from "./tree-eval.js";
import type { RunData } from "./tree-generalisation.js";
import { loadTreeModel, treeModelSpec, type TreeModelSpec } from "./tree-model.js";

/** A finished run's checkpoints and data, read and checked; no engine needed yet. */
export interface TreeRunFiles {
  dir: string;
  data: RunData;
  spec: TreeModelSpec;
  talker: Checkpoint;
  /** The coupled T, or null when the run has no baseline/. */
  baseline: Checkpoint | null;
}

/** Reads and checks the run in `dir`; throws one line when it is unfinished or not a tree run. */
export function readTreeRun(dir: string): TreeRunFiles {
  const finish = `finish it with \`jepa tree --out ${dir}\` and the flags it was started with`;
  const talker = finishedCheckpoint(dir, "talker", finish);
  const spec = treeModelSpec(talker.config, join(dir, "talker"));
  const baseline = existsSync(join(dir, "baseline")) ? finishedCheckpoint(dir, "baseline", finish) : null;
  if (baseline && (baseline.config.kind !== "transformer" || baseline.config.experiment !== "tree")) throw new Error(`${dir}/baseline does not hold a tree run's coupled Transformer`);
  const data = runDataFrom(dir, finish);
  if (data.depth !== spec.depth) throw new Error(`${dir}/metrics.json says depth ${data.depth}, but talker/ routes trees of depth ${spec.depth}: the folder mixes two runs`);
  return { dir, data, spec, talker, baseline };
}

/** Builds the run's models in `engine` and loads their weights. */
export function loadTreeRunModels(engine: Engine, run: TreeRunFiles): TreeModels {
  const { reasoner, talker } = loadTreeModel(engine, run.talker, join(run.dir, "talker"));
  let coupled: TransformerLM | null = null;
  if (run.baseline) {
    const source = join(run.dir, "baseline");
    const config = run.baseline.config.model as TransformerConfig;
    try {
      validateConfig(config);
    } catch (err) {
      throw new Error(`${source}/config.json: ${(err as Error).message}`);
    }
    coupled = new TransformerLM(engine, config, new Rng(0));
    groupToParams(run.baseline.model, coupled.params, "", source);
  }
  return { reasoner, talker, coupled };
}

/** The checkpoint of one stage, which must have run all its steps. */
function finishedCheckpoint(dir: string, stage: string, finish: string): Checkpoint {
  const path = join(dir, stage);
  if (!hasCheckpoint(path)) throw new Error(`${dir} is not a finished tree run: ${stage}/ holds no checkpoint (${finish})`);
  const ckpt = loadCheckpoint(path);
  const steps = (ckpt.config.training as { steps?: unknown } | undefined)?.steps;
  if (typeof steps === "number" && ckpt.state.step < steps) throw new Error(`${dir} is not a finished tree run: ${stage}/ stopped at step ${ckpt.state.step} of ${steps} (${finish})`);
  return ckpt;
}

/** The seed and data fields metrics.json records, checked field by field. */
function runDataFrom(dir: string, finish: string): RunData {
  const path = join(dir, "metrics.json");
  if (!existsSync(path)) throw new Error(`${dir} is not a finished tree run: it has no metrics.json yet (${finish})`);
  let m: { seed?: unknown; preset?: Record<string, unknown> };
  try {
    m = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message})`);
  }
  const p = m?.preset ?? {};
  const trees = p.trees as Record<string, unknown> | undefined;
  const count = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  const ok = count(m?.seed) && count(p.depth) && count(p.alphabetSize) && typeof p.shuffleEdges === "boolean" && trees && count(trees.train) && count(trees.val) && count(trees.test);
  if (!ok) throw new Error(`${path} does not record the seed and data of a tree run (seed, preset.depth, alphabetSize, shuffleEdges, trees)`);
  const t = trees as { train: number; val: number; test: number };
  return { seed: m.seed as number, depth: p.depth as number, alphabetSize: p.alphabetSize as number, shuffleEdges: p.shuffleEdges as boolean, trees: { train: t.train, val: t.val, test: t.test } };
}
