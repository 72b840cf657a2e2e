/**
 * The k sweep (the paper's Fig. 6): SST from the same pretrained weights with k = 1…6, and
 * the rate at which the correct sibling is the major contributor of branching latents,
 * measured on free-running rollouts as training proceeds.
 */
import { readFileSync } from "node:fs";
import type { Engine } from "../engine/engine.js";
import type { Dataset } from "../data/dataset.js";
import { treeTaskRecord, type TreeExample } from "../data/tree.js";
import { Reasoner } from "../model/reasoner.js";
import { Rng } from "../engine/rng.js";
import type { TensorGroup } from "../train/checkpoint.js";
import { runTraining, type TrainSettings } from "../train/loop.js";
import { sstPhase } from "../train/sst-phase.js";
import { groupToParams } from "../train/weights.js";
import { rollout } from "../infer/rollout.js";
import { mixedLatents } from "./tree-analysis.js";
import { promptTensor } from "./tree-eval.js";
import type { TreePreset } from "./tree-config.js";

/** Correct-major-contributor rate against SST steps, one curve per k. */
export interface KSweepResult {
  curves: Array<{ k: number; points: Array<[number, number]> }>;
}

/** Runs the sweep; each k trains in its own sub-directory (resumable) from the pretrained weights. */
export function runKSweep(
  engine: Engine, preset: TreePreset, pretrained: TensorGroup, train: Dataset, probe: readonly TreeExample[],
  candidates: readonly number[], settings: TrainSettings, outDir: string, log: (line: string) => void,
): KSweepResult {
  const curves: KSweepResult["curves"] = [];
  for (const k of preset.kSweep.ks) {
    const reasoner = new Reasoner(engine, { ...preset.reasoner, vocab: train.vocab }, new Rng(settings.seed));
    groupToParams(pretrained, reasoner.lm.params);
    reasoner.resetEma();
    const points: Array<[number, number]> = [[0, correctMajorRate(engine, reasoner, probe, candidates)]];
    const phase = sstPhase(engine, reasoner, { kind: "reasoner", experiment: "tree-ksweep", k, model: reasoner.config, tree: treeTaskRecord(preset.depth, preset.alphabetSize) }, { k, momentum: preset.sst.momentum }, null, settings.seq, "answer");
    // Evaluation doubles as the curve's sampling: it runs every evalEvery steps.
    phase.evaluate = () => {
      const rate = correctMajorRate(engine, reasoner, probe, candidates);
      return { correct_major: rate };
    };
    const result = runTraining(engine, train, phase, { ...settings, steps: preset.kSweep.steps, evalEvery: preset.kSweep.evalEvery, logEvery: preset.kSweep.steps }, { outDir: `${outDir}/k${k}`, label: `k-sweep k=${k}`, log });
    const metrics = readCurve(`${outDir}/k${k}/metrics.jsonl`);
    points.push(...metrics);
    curves.push({ k, points });
    log(`k-sweep k=${k}: correct-major rate ${(points[points.length - 1][1] * 100).toFixed(1)} % after ${preset.kSweep.steps} steps (${result.seconds.toFixed(0)} s)`);
  }
  return { curves };
}

/** Share of branching latents (rolled out freely) whose correct sibling has the larger coefficient. */
export function correctMajorRate(engine: Engine, reasoner: Reasoner, probe: readonly TreeExample[], candidates: readonly number[]): number {
  const steps = probe[0].route.length + 1;
  const D = reasoner.config.dModel;
  const chains = engine.noGrad(() => engine.scoped(() => {
    const chain = rollout(reasoner, promptTensor(engine, probe), { steps }).view();
    return probe.map((_, b) => chain.slice(b * steps * D, (b + 1) * steps * D));
  }));
  return mixedLatents(chains, probe, reasoner.ema.view(), D, "EMA", { ids: candidates, name: "used tokens" }).overall.correctMajorRate;
}

function readCurve(path: string): Array<[number, number]> {
  return readLines(path)
    .map((line) => JSON.parse(line) as Record<string, number>)
    .filter((r) => r.eval_correct_major !== undefined)
    .map((r) => [r.step, r.eval_correct_major]);
}

function readLines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
}
