/**
 * The tree-search experiment end to end: pretrain the Reasoner (loss on all positions), train
 * the coupled baseline T further on the route, SST the Reasoner on route positions, train the
 * Mono-Talker on route latents, evaluate both on held-out trees and on fresh ones
 * (generalisation), and run the analyses.
 * Every phase checkpoints into its own directory under outDir, so a killed run resumes.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import type { Dataset } from "../data/dataset.js";
import { generateSplits, TREE_PAD_ID, TREE_VOCAB, treeTaskRecord, type TreeExample } from "../data/tree.js";
import { MonoTalker } from "../model/mono-talker.js";
import { Reasoner } from "../model/reasoner.js";
import { TransformerLM } from "../model/transformer.js";
import { lmPhase } from "../train/lm-phase.js";
import { runTraining, type TrainSettings } from "../train/loop.js";
import { sstPhase } from "../train/sst-phase.js";
import { answerSpan, talkerPhase } from "../train/talker-phase.js";
import { writeFileAtomic } from "../train/atomic.js";
import { paramsToGroup } from "../train/weights.js";
import { groupToParams } from "../train/weights.js";
import { mixedLatents, pcaFigure, type MixedLatentReport } from "./tree-analysis.js";
import { totalSteps, type RestartedSchedule, type TreePreset } from "./tree-config.js";
import { checkContainment, type ContainmentReport } from "./tree-containment.js";
import { evaluateCoupled, evaluateReasoner, type RouteScores } from "./tree-eval.js";
import { runDataOf, runGeneralisation, type GeneralisationReport } from "./tree-generalisation.js";
import { runKSweep, type KSweepResult } from "./tree-ksweep.js";
import { loadTimings, timeStage } from "./run-timings.js";

/** What a run is asked to do. */
export interface TreeRunOptions {
  preset: TreePreset;
  seed: number;
  outDir: string;
  kSweep: boolean;
  log: (line: string) => void;
}

/** Everything the report is written from. */
export interface TreeResults {
  preset: TreePreset;
  seed: number;
  reasoner: RouteScores;
  coupled: RouteScores;
  /** Both models on fresh trees, with shuffled and with the run's edge order. */
  generalisation: GeneralisationReport;
  mixed: MixedLatentReport[];
  pcaExplained: number[];
  containment: ContainmentReport;
  kSweep: KSweepResult | null;
  seconds: Record<string, number>;
  figures: string[];
  parameters: { reasoner: number; talker: number };
}

/**
 * The examples of a split as a token dataset whose answer starts at the route. With
 * routeDropout > 0, each branch token given as a teacher-forced input (the route between the
 * root and the target) is hidden with that probability, so "a child of the previous token"
 * stops being enough to predict the next branch (docs/tree-recipe.md, H4).
 */
export function treeDataset(examples: readonly TreeExample[], routeDropout = 0): Dataset {
  return {
    vocab: TREE_VOCAB.length, padId: TREE_PAD_ID, inputDropout: routeDropout,
    examples: examples.map((e) => ({ tokens: e.tokens, lossStart: e.routeStart, dropInputs: { from: e.routeStart + 1, to: e.routeStart + e.route.length - 1 } })),
  };
}

/** Runs the whole experiment and writes checkpoints, figures and metrics under outDir. */
export function runTreeExperiment(engine: Engine, o: TreeRunOptions): TreeResults {
  const { preset: p, seed, log } = o;
  mkdirSync(o.outDir, { recursive: true });
  const seconds = loadTimings(o.outDir);
  const timed = <T>(name: string, fn: () => T): T => timeStage(o.outDir, seconds, name, fn);
  const splits = timed("data", () => generateSplits(p.trees, { seed, depth: p.depth, shuffleEdges: p.shuffleEdges, alphabetSize: p.alphabetSize }));
  const train = treeDataset(splits.train), val = treeDataset(splits.val);
  const seq = Math.max(...splits.train.map((e) => e.tokens.length)) - 1;
  const used = usedTokens(splits.train);
  log(`tree search, preset ${p.name}: ${splits.train.length} train / ${splits.val.length} val / ${splits.test.length} test trees of depth ${p.depth}, ${seq + 1} tokens each`);
  const settings = (s: RestartedSchedule, loss: "all" | "answer", offset: number): TrainSettings => ({
    ...(s.restarts?.length ? { restarts: s.restarts.map((r) => ({ ...r, minLr: r.lr / 10 })) } : {}),
    steps: totalSteps(s), batch: p.batch, seq, lr: s.lr, minLr: s.lr / 10, warmup: s.warmup, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clip: 1,
    evalEvery: p.evalEvery, checkpointEvery: Math.max(50, Math.floor(s.steps / 4)), logEvery: Math.max(10, Math.floor(s.steps / 20)), seed: seed + offset, loss,
  });
  const run = (name: string) => ({ outDir: join(o.outDir, name), label: name, log });
  const config = { ...p.reasoner, vocab: TREE_VOCAB.length };
  // Last among the config's fields, so that a stage checkpoint written before it existed still resumes (loop.ts).
  const tree = treeTaskRecord(p.depth, p.alphabetSize);

  const reasoner = new Reasoner(engine, config, new Rng(seed));
  timed("pretrain", () => runTraining(engine, treeDataset(splits.train, p.routeDropout), lmPhase(engine, reasoner.lm, { kind: "transformer", experiment: "tree", role: "pretrain", model: config, tree }, val, seq, "answer"), settings(p.pretrain, p.pretrainLoss, 1), run("pretrain")));
  const pretrained = paramsToGroup(reasoner.lm.params);
  // Snapshot the pretrained weights: the baseline and the k sweep start from them.
  const snapshot = new Map([...pretrained].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }]));

  const coupled = new TransformerLM(engine, config, new Rng(seed));
  groupToParams(snapshot, coupled.params);
  timed("baseline", () => runTraining(engine, train, lmPhase(engine, coupled, { kind: "transformer", experiment: "tree", role: "baseline", model: config, tree }, val, seq, "answer"), settings(p.baseline, "answer", 2), run("baseline")));

  reasoner.resetEma();
  timed("sst", () => runTraining(engine, train, sstPhase(engine, reasoner, { kind: "reasoner", experiment: "tree", model: config, tree }, p.sst, val, seq, "answer"), settings(p.sst, "answer", 3), run("sst")));

  const talkerConfig = { kind: "mono" as const, latentDim: config.dModel, stack: { ...p.talker, vocab: TREE_VOCAB.length }, encoderLayers: 0, causal: false };
  const talker = new MonoTalker(engine, talkerConfig, new Rng(seed + 4));
  const span = answerSpan(train);
  timed("talker", () => runTraining(engine, train, talkerPhase(engine, reasoner, talker, { kind: "talker", experiment: "tree", talker: talkerConfig, reasoner: config, answer: span, latents: p.talkerTraining.latents, tree }, span, p.talkerTraining.latents, seq, val), settings(p.talkerTraining, "answer", 4), run("talker")));

  log(`evaluating on ${splits.test.length} held-out trees...`);
  const rEval = timed("eval_reasoner", () => evaluateReasoner(engine, reasoner, talker, splits.test));
  const tEval = timed("eval_coupled", () => evaluateCoupled(engine, coupled, splits.test));
  log(`exact match: JEPA-Reasoner ${(100 * rEval.scores.exact).toFixed(2)} %, coupled Transformer ${(100 * tEval.scores.exact).toFixed(2)} %`);
  const generalisation = timed("generalisation", () => runGeneralisation(engine, { reasoner, talker, coupled }, runDataOf(p, seed), splits, o.outDir, log));

  const D = config.dModel;
  const letters = used.filter((id) => /^[A-Z]$/.test(TREE_VOCAB[id]));
  const mixed = timed("mixed_latents", () => [
    mixedLatents(rEval.chains, splits.test, reasoner.ema.view(), D, "EMA target embedding, rows L2-normalised", { ids: used, name: "all used vocabulary tokens" }),
    mixedLatents(rEval.chains, splits.test, reasoner.ema.view(), D, "EMA target embedding, rows L2-normalised", { ids: letters, name: "letters only" }),
    mixedLatents(rEval.chains, splits.test, reasoner.lm.params.get("wte.weight").view(), D, "online embedding, rows L2-normalised", { ids: used, name: "all used vocabulary tokens" }),
  ]);
  const figures: string[] = [];
  const pcaOut = pcaFigure(rEval.chains, splits.test, reasoner.ema.view(), D, "EMA", letters);
  writeFileAtomic(join(o.outDir, "pca.svg"), pcaOut.svg);
  figures.push("pca.svg");
  const containment = timed("containment", () => checkContainment(engine, reasoner, talker, coupled, splits.test.slice(0, 200), rEval.chains.slice(0, 200), used, new Rng(seed + 5)));

  let kSweep: KSweepResult | null = null;
  if (o.kSweep) {
    const probe = splits.val.slice(0, p.kSweep.evalTrees);
    kSweep = timed("k_sweep", () => runKSweep(engine, p, snapshot, train, probe, used, settings(p.sst, "answer", 6), join(o.outDir, "k-sweep"), log));
  }
  return {
    preset: p, seed, reasoner: rEval.scores, coupled: tEval.scores, generalisation, mixed, pcaExplained: pcaOut.explained, containment, kSweep, seconds, figures,
    parameters: { reasoner: reasoner.lm.params.count(), talker: talker.params.count() },
  };
}

function usedTokens(examples: readonly TreeExample[]): number[] {
  const seen = new Set<number>();
  for (const e of examples) for (const t of e.tokens) seen.add(t);
  seen.delete(TREE_PAD_ID);
  return [...seen].sort((a, b) => a - b);
}
