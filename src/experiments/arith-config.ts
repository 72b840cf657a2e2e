/**
 * Presets of the arithmetic-reasoning comparison (the paper's GSM8K experiment at CPU scale):
 * data sizes, tokenizer, model sizes and the schedule of each phase. The coupled baseline T's
 * fine-tune and the Reasoner's SST share one schedule: identical data and hyperparameters.
 */
import type { ArithOptions } from "../data/arith.js";
import { MODEL_PRESETS, TALKER_PRESETS, type StackSizes } from "../model/presets.js";

/** Steps and learning rate of one training phase. */
export interface ArithSchedule {
  steps: number;
  lr: number;
  warmup: number;
}

/** Everything a run is sized by. */
export interface ArithPreset {
  name: string;
  problems: { train: number; val: number; test: number };
  generator: Partial<ArithOptions>;
  /** Training prompts hold 0 to maxShots solved exemplars before their question. */
  maxShots: number;
  /** Shot counts both models are evaluated at (the paper's 5 and 8). */
  evalShots: number[];
  /** GSM8K test problems per shot count, when a GSM8K directory is given. */
  gsm8kLimit: number;
  /** Tokenizer spec: char, bpe:N (trained on the training problems) or gpt2. */
  tokenizer: string;
  reasoner: StackSizes;
  talker: StackSizes & { encoderLayers: number };
  batch: number;
  pretrain: ArithSchedule;
  /** The schedule of both the baseline T's fine-tune and the Reasoner's SST. */
  finetune: ArithSchedule;
  sst: { k: number; momentum: number };
  talkerTraining: ArithSchedule & { latents: "teacher" | "rollout" };
  /** Most tokens (latents) either model may produce per problem. */
  maxSteps: number;
  /** Talker ablation: problems, and answer tokens given to the decoder as its prefix. */
  ablation: { samples: number; prefix: number };
  evalEvery: number;
}

/** A smoke test of the whole pipeline in seconds; it learns next to nothing. */
const tiny: ArithPreset = {
  name: "tiny",
  problems: { train: 64, val: 6, test: 5 },
  generator: { calculator: false, minOps: 2, maxOps: 2 },
  maxShots: 2,
  evalShots: [1, 2],
  gsm8kLimit: 2,
  tokenizer: "bpe:300",
  reasoner: { ...MODEL_PRESETS.tiny },
  talker: { ...TALKER_PRESETS.tiny },
  batch: 6,
  pretrain: { steps: 8, lr: 3e-3, warmup: 2 },
  finetune: { steps: 4, lr: 1e-3, warmup: 1 },
  sst: { k: 4, momentum: 0.98 },
  talkerTraining: { steps: 4, lr: 3e-3, warmup: 1, latents: "teacher" },
  maxSteps: 12,
  ablation: { samples: 3, prefix: 3 },
  evalEvery: 4,
};

/**
 * The CPU-scale comparison: a 1.2M-parameter, 6-block Reasoner (and T, the same network) and a
 * Dual-Talker of 2 + 2 blocks, on 20,000 problems. Calculator annotations are left out of the
 * solutions: they make every sequence a third longer and add nothing to learn. Measured on 2
 * shared cores with 1 thread: about 15 s per pretraining step, 10 s per fine-tune step.
 */
const cpu: ArithPreset = {
  name: "cpu",
  problems: { train: 20000, val: 64, test: 300 },
  generator: { calculator: false },
  maxShots: 8,
  evalShots: [5, 8],
  gsm8kLimit: 100,
  tokenizer: "bpe:512",
  reasoner: { ...MODEL_PRESETS.small, layers: 6 },
  talker: { ...TALKER_PRESETS.small },
  batch: 12,
  pretrain: { steps: 800, lr: 2e-3, warmup: 40 },
  finetune: { steps: 300, lr: 5e-4, warmup: 20 },
  sst: { k: 4, momentum: 0.98 },
  talkerTraining: { steps: 300, lr: 2e-3, warmup: 20, latents: "teacher" },
  maxSteps: 128,
  ablation: { samples: 50, prefix: 10 },
  evalEvery: 200,
};

/** The presets by name. */
export const ARITH_PRESETS: Record<string, ArithPreset> = { tiny, cpu };
