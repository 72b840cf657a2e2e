/** The tree experiment's quick preset: time of one Reasoner pretraining step (batch 64 × 50 tokens). */
import type { Engine } from "../src/engine/engine.js";
import { TREE_VOCAB } from "../src/data/tree.js";
import { TREE_PRESETS } from "../src/experiments/tree-config.js";
import { runStandardWorkload } from "./standard.js";

/** Tokens a tree example feeds the model (51 tokens, shifted by one for the targets). */
const TREE_SEQ = 50;

/** Median milliseconds of a quick-preset pretraining step (forward, backward, clip, AdamW). */
export function measureTreeStep(engine: Engine, steps: number, warmup: number): number {
  const preset = TREE_PRESETS.quick;
  const config = { ...preset.reasoner, vocab: TREE_VOCAB.length };
  const r = runStandardWorkload(engine, { config, batch: preset.batch, seq: TREE_SEQ, steps, warmup, skipInference: true });
  return (preset.batch * TREE_SEQ * 1000) / r.trainTokS;
}
