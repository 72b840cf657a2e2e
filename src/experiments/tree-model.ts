/**
 * A trained tree-search model for interactive use (the browser page, and the tests that check
 * it): the Reasoner with its EMA target embedding and the Mono-Talker, built from the Talker
 * checkpoint of a tree run (`<run>/talker`), which holds both models ("reasoner.*",
 * "talker.*") and the EMA target. Browser-safe.
 */
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { TREE_VOCAB, type TreeExample } from "../data/tree.js";
import { validateConfig, type TransformerConfig } from "../model/config.js";
import { MonoTalker } from "../model/mono-talker.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import { validateTalkerConfig, type TalkerConfig } from "../model/talker-config.js";
import type { InferenceCheckpoint } from "../train/checkpoint-files.js";
import type { CheckpointConfig } from "../train/checkpoint-types.js";
import { groupToParams } from "../train/weights.js";
import { evaluateReasoner } from "./tree-eval.js";

/** What a tree checkpoint's config says about its models and the trees they route. */
export interface TreeModelSpec {
  reasoner: TransformerConfig;
  talker: TalkerConfig;
  /** Levels of the trees it was trained on (route length). */
  depth: number;
  /** Latents per tree: the route and `<end>`. */
  steps: number;
}

/** The two models of a tree run, loaded into one engine. */
export interface TreeModel {
  spec: TreeModelSpec;
  reasoner: Reasoner;
  talker: MonoTalker;
  /** The EMA target embedding (vocab × dModel), a copy outside the engine's memory. */
  ema: Float32Array;
}

/** One tree run through the model: the chain (steps × dModel, row-major) and the Talker's tokens. */
export interface TreeRun {
  chain: Float32Array;
  tokens: number[];
}

/** Checks that a checkpoint is a tree run's Mono-Talker checkpoint and returns its sizes; messages name `source`. */
export function treeModelSpec(config: CheckpointConfig, source: string): TreeModelSpec {
  const need = "the page needs the Talker checkpoint of a tree-search run (the run's talker/ directory, or a bundle of it)";
  if (config.kind !== "talker") throw new Error(`${source} holds a '${config.kind}' checkpoint; ${need}`);
  if (config.experiment !== "tree") throw new Error(`${source} is a Talker checkpoint of another task (${config.experiment === undefined ? "not tree search" : `'${String(config.experiment)}'`}); ${need}`);
  const reasoner = config.reasoner as TransformerConfig;
  const talker = config.talker as TalkerConfig;
  const answer = config.answer as { start?: unknown; length?: unknown } | undefined;
  try {
    validateConfig(reasoner);
    validateTalkerConfig(talker);
  } catch (err) {
    throw new Error(`${source}/config.json: ${(err as Error).message}`);
  }
  if (talker.kind !== "mono") throw new Error(`${source} holds a ${talker.kind} Talker; the page reads route latents with a Mono-Talker`);
  if (reasoner.vocab !== TREE_VOCAB.length || talker.stack.vocab !== TREE_VOCAB.length) throw new Error(`${source}: the models' vocabulary is not the tree task's ${TREE_VOCAB.length} tokens`);
  // Checkpoints written before the record existed lack it; a recorded vocabulary must be this one.
  const recorded = (config.tree as { vocab?: unknown } | undefined)?.vocab;
  if (recorded !== undefined && JSON.stringify(recorded) !== JSON.stringify(TREE_VOCAB)) throw new Error(`${source}/config.json: tree.vocab is not the tree task's vocabulary`);
  if (!answer || !Number.isInteger(answer.length) || (answer.length as number) < 3) throw new Error(`${source}/config.json: no valid answer span (route length + 1)`);
  return { reasoner, talker, depth: (answer.length as number) - 1, steps: answer.length as number };
}

/** Builds both models in `engine` and loads their weights; messages name `source`. */
export function loadTreeModel(engine: Engine, ckpt: InferenceCheckpoint, source: string): TreeModel {
  const spec = treeModelSpec(ckpt.config, source);
  const emaTensor = ckpt.ema?.get(`reasoner.${EMA_NAME}`);
  const V = spec.reasoner.vocab, D = spec.reasoner.dModel;
  if (!emaTensor || emaTensor.data.length !== V * D) throw new Error(`${source} has no EMA target embedding reasoner.${EMA_NAME} of shape [${V}, ${D}]`);
  const reasoner = new Reasoner(engine, spec.reasoner, new Rng(0));
  groupToParams(ckpt.model, reasoner.lm.params, "reasoner.", source);
  reasoner.ema.view().set(emaTensor.data);
  const talker = new MonoTalker(engine, spec.talker, new Rng(0));
  groupToParams(ckpt.model, talker.params, "talker.", source);
  return { spec, reasoner, talker, ema: emaTensor.data.slice() };
}

/** Engine memory (MB) for a checkpoint's weights (loaded once) plus room for inference on one tree. */
export function treeModelMemoryMB(ckpt: InferenceCheckpoint): number {
  let floats = 0;
  for (const group of [ckpt.model, ckpt.ema]) for (const t of group?.values() ?? []) floats += t.data.length;
  const mb = Math.ceil((floats * 4) / 1048576);
  return Math.min(4096, 64 + 2 * mb);
}

/** Rolls out the tree's chain (route + `<end>`) and reads it with the Talker, greedily, as the experiment's evaluation does. */
export function runTree(engine: Engine, model: TreeModel, example: TreeExample): TreeRun {
  if (example.route.length + 1 !== model.spec.steps) throw new Error(`the model routes trees of depth ${model.spec.depth}, this one has depth ${example.route.length}`);
  const { chains, tokens } = evaluateReasoner(engine, model.reasoner, model.talker, [example]);
  return { chain: chains[0], tokens: tokens[0] };
}
