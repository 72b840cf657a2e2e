/**
 * Generalisation of a finished tree run beyond its held-out split: the same models scored on
 * trees no split of the run holds, drawn from the "fresh" seed stream, (a) with the edges in
 * random order and (b) in the run's own edge order. `jepa tree eval --count N` draws exactly
 * these trees, so its figures reproduce the report's. The scores are cached in the run folder,
 * keyed by the data and the checkpoints, so a resumed run does not score them again.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { generateSplit, generateSplits, treeKey, type TreeExample, type TreeSplit } from "../data/tree.js";
import { writeFileAtomic } from "../train/atomic.js";
import type { TreePreset } from "./tree-config.js";
import { evaluateModels, type RouteScores, type TreeModels } from "./tree-eval.js";

/** Trees of each generalisation set the pipeline scores (fewer when the preset's test split is smaller). */
export const GENERALISATION_TREES = 1000;

/** The cache of the pipeline's generalisation stage, in the run folder. */
export const GENERALISATION_FILE = "generalisation.json";

/** What a run's splits are drawn from: its seed and the preset's data fields. */
export type RunData = Pick<TreePreset, "depth" | "alphabetSize" | "trees" | "shuffleEdges"> & { seed: number };

/** How fresh trees are drawn. */
export interface FreshOptions {
  count: number;
  seed: number;
  shuffleEdges: boolean;
}

/** Both models' scores on one set of trees. */
export interface SetScores {
  reasoner: RouteScores;
  coupled: RouteScores | null;
}

/** The pipeline's generalisation figures. */
export interface GeneralisationReport {
  seed: number;
  count: number;
  /** (a) fresh trees with their edges in random order. */
  shuffled: SetScores;
  /** (b) fresh trees in the run's edge order. */
  fresh: SetScores;
}

/** The data fields of a preset, with the run's seed. */
export function runDataOf(p: Omit<RunData, "seed">, seed: number): RunData {
  return { seed, depth: p.depth, alphabetSize: p.alphabetSize, trees: { train: p.trees.train, val: p.trees.val, test: p.trees.test }, shuffleEdges: p.shuffleEdges };
}

/** The problem keys (edge order ignored) of every split of a run, which fresh trees avoid. */
export function runKeys(splits: Record<TreeSplit, readonly TreeExample[]>): Set<string> {
  return new Set([...splits.train, ...splits.val, ...splits.test].map(treeKey));
}

/** The splits of a run, drawn again from its seed: generation is deterministic. */
export function runSplits(run: RunData): Record<TreeSplit, TreeExample[]> {
  return generateSplits(run.trees, { seed: run.seed, depth: run.depth, shuffleEdges: run.shuffleEdges, alphabetSize: run.alphabetSize });
}

/** `count` trees from the "fresh" stream of `seed`, none of them a problem (in any edge order) of the run's splits. */
export function freshTrees(run: RunData, seen: ReadonlySet<string>, o: FreshOptions): TreeExample[] {
  return generateSplit("fresh", o.count, { seed: o.seed, depth: run.depth, alphabetSize: run.alphabetSize, shuffleEdges: o.shuffleEdges, excludeKeys: seen });
}

/** Scores both sets, or reads them back from the run folder when the same data and checkpoints were scored before. */
export function runGeneralisation(
  engine: Engine, models: TreeModels, run: RunData, splits: Record<TreeSplit, readonly TreeExample[]>, outDir: string, log: (line: string) => void,
): GeneralisationReport {
  const count = Math.min(GENERALISATION_TREES, run.trees.test);
  const key = JSON.stringify({ run: runDataOf(run, run.seed), count, checkpoints: ["talker", "baseline"].map((d) => checkpointChecksum(join(outDir, d))) });
  const cached = readCache(join(outDir, GENERALISATION_FILE), key);
  if (cached) {
    log(`generalisation: scored before, read from ${GENERALISATION_FILE}`);
    return cached;
  }
  log(`generalisation: ${count} fresh trees with shuffled edges, ${count} in the run's edge order...`);
  const seen = runKeys(splits);
  const score = (shuffleEdges: boolean): SetScores => {
    const r = evaluateModels(engine, models, freshTrees(run, seen, { count, seed: run.seed, shuffleEdges }));
    return { reasoner: r.reasoner.scores, coupled: r.coupled?.scores ?? null };
  };
  const report = { seed: run.seed, count, shuffled: score(true), fresh: score(run.shuffleEdges) };
  writeFileAtomic(join(outDir, GENERALISATION_FILE), JSON.stringify({ key, report }, null, 2) + "\n");
  return report;
}

/** The checksum state.json carries (its text for a checkpoint without one): it changes with every save. */
function checkpointChecksum(dir: string): string | null {
  const path = join(dir, "state.json");
  if (!existsSync(path)) return null;
  const text = readFileSync(path, "utf8");
  try {
    const checksum = (JSON.parse(text) as { checksum?: unknown }).checksum;
    return typeof checksum === "string" ? checksum : text;
  } catch {
    return text;
  }
}

function readCache(path: string, key: string): GeneralisationReport | null {
  if (!existsSync(path)) return null;
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as { key?: unknown; report?: GeneralisationReport };
    return saved.key === key && saved.report ? saved.report : null;
  } catch {
    // A damaged cache is scored again, not trusted.
    return null;
  }
}
