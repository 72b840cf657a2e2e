/** Presets of the tree-search experiment: model sizes, data sizes and the schedule of each phase. */
import { MODEL_PRESETS, TALKER_PRESETS, type StackSizes } from "../model/presets.js";

/** Steps and learning rate of one training phase. */
export interface PhaseSchedule {
  steps: number;
  lr: number;
  warmup: number;
}

/** A warm restart: another warmup-cosine cycle (to lr/10) after the phase's first. */
export interface Restart {
  steps: number;
  lr: number;
  warmup: number;
}

/** A phase's first cycle, then any warm restarts (their steps come on top). */
export type RestartedSchedule = PhaseSchedule & { restarts?: Restart[] };

/** Everything a tree-search run is sized by. */
export interface TreePreset {
  name: string;
  depth: number;
  shuffleEdges: boolean;
  /** Letters node names are drawn from (15: A–O, as in the paper's example). */
  alphabetSize: number;
  trees: { train: number; val: number; test: number };
  reasoner: StackSizes;
  talker: StackSizes;
  batch: number;
  pretrain: RestartedSchedule;
  sst: PhaseSchedule & { k: number; momentum: number };
  talkerTraining: PhaseSchedule & { latents: "teacher" | "rollout" };
  baseline: PhaseSchedule;
  kSweep: { ks: number[]; steps: number; evalEvery: number; evalTrees: number };
  evalEvery: number;
  /** Pretraining only: probability of hiding each teacher-forced branch input (0: the paper's). */
  routeDropout: number;
  /** Pretraining loss positions: "all" (the paper's) or "answer" (the route only, like SST). */
  pretrainLoss: "all" | "answer";
}

const quick: TreePreset = {
  name: "quick",
  depth: 4,
  shuffleEdges: false,
  alphabetSize: 15,
  trees: { train: 20000, val: 500, test: 5000 },
  // Depth matters more than width here: routing needs several lookups in sequence. Heads are
  // 48 wide, the paper's (Table 2): with QK-Norm a head's logits are bounded by √dh; heads of 16
  // never formed the lookup, heads of 48 did for one seed of three (docs/tree-recipe.md, H6).
  reasoner: { ...MODEL_PRESETS.small, layers: 6, heads: 4, attnDim: 192 },
  talker: { ...TALKER_PRESETS.small },
  batch: 64,
  pretrain: { steps: 1200, lr: 2e-3, warmup: 50 },
  sst: { steps: 300, lr: 5e-4, warmup: 20, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 200, lr: 2e-3, warmup: 20, latents: "rollout" },
  baseline: { steps: 300, lr: 5e-4, warmup: 20 },
  kSweep: { ks: [1, 2, 3, 4, 5, 6], steps: 80, evalEvery: 20, evalTrees: 200 },
  evalEvery: 200,
  routeDropout: 0,
  // The loss on all positions (the paper's) is dominated by the edge letters, which no model can
  // predict; the route's decisions are about 5 % of it (docs/tree-recipe.md).
  pretrainLoss: "answer",
};

/** A smoke test of the whole pipeline in seconds; it learns next to nothing. */
const tiny: TreePreset = {
  ...quick,
  name: "tiny",
  trees: { train: 400, val: 30, test: 60 },
  reasoner: { ...MODEL_PRESETS.tiny },
  talker: { ...TALKER_PRESETS.tiny },
  batch: 16,
  pretrain: { steps: 30, lr: 3e-3, warmup: 5 },
  sst: { steps: 20, lr: 1e-3, warmup: 5, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 20, lr: 3e-3, warmup: 5, latents: "rollout" },
  baseline: { steps: 20, lr: 1e-3, warmup: 5 },
  kSweep: { ks: [1, 4], steps: 10, evalEvery: 5, evalTrees: 20 },
  evalEvery: 10,
  pretrainLoss: "all",
};

/** Total steps of a phase: its first cycle and its restarts. */
export function totalSteps(s: RestartedSchedule): number {
  return s.steps + (s.restarts ?? []).reduce((sum, r) => sum + r.steps, 0);
}

/** The presets by name. quick: the README's main job; cpu: the longer CPU run; paper: Table 2 sizes; tiny: a smoke test. */
export const TREE_PRESETS: Record<string, TreePreset> = {
  quick,
  tiny,
  cpu: {
    ...quick,
    name: "cpu",
    trees: { train: 100000, val: 1000, test: 10000 },
    // The recipe that left the plateau at about 2,600 steps (docs/tree-recipe.md, H10): width 64,
    // four heads of 48, the paper's QK-Norm, the loss on the route. Its first cycle learns the
    // route for targets under the root's first child; a warm restart learns the rest (H13).
    reasoner: { ...MODEL_PRESETS.small, dModel: 64, layers: 6, heads: 4, attnDim: 192, mlpDim: 256 },
    talker: { ...TALKER_PRESETS.small },
    pretrain: { steps: 4000, lr: 2e-3, warmup: 50, restarts: [{ steps: 3000, lr: 1e-3, warmup: 50 }] },
    sst: { steps: 600, lr: 3e-4, warmup: 50, k: 4, momentum: 0.98 },
    talkerTraining: { steps: 400, lr: 1.5e-3, warmup: 50, latents: "rollout" },
    baseline: { steps: 600, lr: 3e-4, warmup: 50 },
    kSweep: { ks: [1, 2, 3, 4, 5, 6], steps: 300, evalEvery: 50, evalTrees: 300 },
    evalEvery: 500,
  },
  paper: {
    ...quick,
    name: "paper",
    trees: { train: 200000, val: 2000, test: 10000 },
    reasoner: { ...MODEL_PRESETS["tree-paper"] },
    talker: { ...TALKER_PRESETS["tree-paper"] },
    // 42M parameters at 51 tokens: batch 32 keeps the activations inside the engine's 4 GB.
    batch: 32,
    pretrain: { steps: 20000, lr: 3e-4, warmup: 500 },
    sst: { steps: 6000, lr: 1e-4, warmup: 200, k: 4, momentum: 0.98 },
    talkerTraining: { steps: 3000, lr: 3e-4, warmup: 100, latents: "rollout" },
    baseline: { steps: 6000, lr: 1e-4, warmup: 200 },
    kSweep: { ks: [1, 2, 3, 4, 5, 6], steps: 6000, evalEvery: 200, evalTrees: 500 },
    evalEvery: 1000,
  },
};
