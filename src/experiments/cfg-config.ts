/** Presets of the CFG robustness experiment: grammar, task shape, model sizes and schedules. */
import type { GrammarPresetName } from "../data/cfg-grammar.js";
import { MODEL_PRESETS, TALKER_PRESETS, type StackSizes } from "../model/presets.js";
import type { PhaseSchedule } from "./tree-config.js";

/** Everything a CFG run is sized by. */
export interface CfgPreset {
  name: string;
  /** How the preset departs from the paper, for the report. */
  note: string;
  /** The committed grammar, data/cfg/<grammar>.json. */
  grammar: GrammarPresetName;
  /** Terminals in every completion prompt (after <bos>); fixed, so every answer starts at the same index. */
  prefix: number;
  /** Terminals to complete (the latent-noise test reads 8: C's 4 steps + 4 tokens). */
  answer: number;
  /** C's continuous steps, which stand in for the first answer tokens. */
  coconutLatents: number;
  /** Tokens per pretraining row: <bos>, the sentence and <eos>, truncated to this length. */
  pretrainLength: number;
  /** Sentences drawn per split; train feeds pretraining and every later phase. */
  sentences: { train: number; val: number; test: number };
  /** T, C and the pretrained Transformer they and R start from. */
  transformer: StackSizes;
  /** R keeps the first blocks of the pretrained Transformer. */
  reasonerBlocks: number;
  /** The Dual-Talker's decoder (layers) and encoder (encoderLayers) stacks. */
  talker: StackSizes & { encoderLayers: number };
  pretrainBatch: number;
  batch: number;
  pretrain: PhaseSchedule;
  baseline: PhaseSchedule;
  sst: PhaseSchedule & { k: number; momentum: number };
  talkerTraining: PhaseSchedule & { latents: "teacher" | "rollout" };
  coconut: PhaseSchedule;
  evalEvery: number;
  /** Whether stages evaluate on the validation completions as they train (off at paper size: 32 prompts of activations do not fit beside the weights). */
  validation: boolean;
  /** Prompts per generation batch during evaluation. */
  evalBatch: number;
  /** Engine memory per stage, MB (every stage runs in a fresh engine). */
  memoryMB: number;
}

/** The paper's input-noise levels (Table 7, Fig. 3): fractions of prompt terminals replaced. */
export const TOKEN_NOISE_LEVELS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3];
/** The paper's latent-noise levels (Table 4): σ as a fraction of each latent's largest element. */
export const LATENT_NOISE_LEVELS = [0, 0.05, 0.1, 0.15];

const cpu: CfgPreset = {
  name: "cpu",
  note: "CPU size: the smaller 4-level grammar, d 128, T and C 6 blocks, R their first 4 plus a 1 + 1 Dual-Talker (Table 3's 24 = 16 + 4 + 4 scaled down), and a few thousand steps instead of training to a plateau.",
  grammar: "cpu",
  prefix: 32,
  answer: 8,
  coconutLatents: 4,
  // Sentences are cut after 63 terminals: the completion window (32 + 8) fits with room to spare.
  pretrainLength: 64,
  sentences: { train: 40000, val: 500, test: 2000 },
  // Table 3's shape at CPU size: T has 6 blocks, R its first 4, the Dual-Talker 1 + 1 (24 = 16 + 4 + 4 in the paper).
  transformer: { ...MODEL_PRESETS.small, layers: 6 },
  reasonerBlocks: 4,
  talker: { ...TALKER_PRESETS.small, layers: 1, encoderLayers: 1 },
  pretrainBatch: 32,
  batch: 64,
  pretrain: { steps: 2000, lr: 2e-3, warmup: 100 },
  baseline: { steps: 400, lr: 3e-4, warmup: 30 },
  sst: { steps: 400, lr: 3e-4, warmup: 30, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 300, lr: 1.5e-3, warmup: 30, latents: "rollout" },
  coconut: { steps: 400, lr: 3e-4, warmup: 30 },
  evalEvery: 200,
  validation: true,
  evalBatch: 250,
  memoryMB: 1024,
};

/** A smoke test of the whole pipeline in seconds; it learns next to nothing. */
const tiny: CfgPreset = {
  ...cpu,
  name: "tiny",
  note: "A smoke test of the pipeline: a toy model trained for a few steps, whose numbers mean nothing.",
  prefix: 16,
  pretrainLength: 40,
  sentences: { train: 300, val: 24, test: 40 },
  transformer: { ...MODEL_PRESETS.tiny, layers: 3 },
  reasonerBlocks: 2,
  talker: { ...TALKER_PRESETS.tiny, layers: 1, encoderLayers: 1 },
  pretrainBatch: 16,
  batch: 16,
  pretrain: { steps: 20, lr: 3e-3, warmup: 5 },
  baseline: { steps: 8, lr: 1e-3, warmup: 2 },
  sst: { steps: 8, lr: 1e-3, warmup: 2, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 8, lr: 3e-3, warmup: 2, latents: "rollout" },
  coconut: { steps: 8, lr: 1e-3, warmup: 2 },
  evalEvery: 8,
  evalBatch: 40,
  memoryMB: 256,
};

/** Table 3 sizes as far as a 4 GB WebAssembly memory allows (see its note). */
const paper: CfgPreset = {
  name: "paper",
  note: "Table 3 widths, the 16-block Reasoner and the 4 + 4 Dual-Talker, but T and C have 16 blocks, not 24: a 24-block model's weights, gradients and AdamW moments take 4.25 GB, more than a WebAssembly memory holds. Batch 2 (the paper: 128) is what fits beside the activations.",
  grammar: "paper",
  prefix: 128,
  answer: 8,
  coconutLatents: 4,
  pretrainLength: 256,
  sentences: { train: 50000, val: 200, test: 5248 },
  transformer: { ...MODEL_PRESETS["cfg-paper"] },
  reasonerBlocks: 16,
  talker: { ...TALKER_PRESETS["cfg-paper"] },
  // What fits beside the weights: C's unrolled steps at batch 4 exceed the 4 GB.
  pretrainBatch: 2,
  batch: 2,
  pretrain: { steps: 20000, lr: 1e-4, warmup: 500 },
  baseline: { steps: 5000, lr: 1e-4, warmup: 200 },
  sst: { steps: 5000, lr: 1e-4, warmup: 200, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 5000, lr: 1e-4, warmup: 200, latents: "rollout" },
  coconut: { steps: 5000, lr: 1e-4, warmup: 200 },
  evalEvery: 1000,
  validation: false,
  evalBatch: 4,
  memoryMB: 4096,
};

/** The presets by name. cpu: the CPU run (under 2 hours on 2 cores); paper: Table 3 sizes; tiny: a smoke test. */
export const CFG_PRESETS: Record<string, CfgPreset> = { cpu, tiny, paper };
