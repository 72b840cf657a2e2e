/**
 * Writing a small Talker checkpoint in-process, in the layout `jepa talker` writes, with weights
 * drawn large enough that every tensor visibly changes the latents and logits (a freshly
 * initialised model's are nearly uniform, which would hide a wrong formula).
 */
import type { Engine } from "../../src/engine/engine.js";
import { Rng } from "../../src/engine/rng.js";
import type { TransformerConfig } from "../../src/model/config.js";
import { DualTalker } from "../../src/model/dual-talker.js";
import { MonoTalker } from "../../src/model/mono-talker.js";
import type { ParamStore } from "../../src/model/params.js";
import { EMA_NAME, Reasoner } from "../../src/model/reasoner.js";
import type { TalkerConfig } from "../../src/model/talker-config.js";
import { saveCheckpoint } from "../../src/train/checkpoint.js";
import { talkerGroup } from "../../src/train/talker-phase.js";

/** The characters of the checkpoints' tokenizer (ids 2 …). */
export const CHARS = [..."0123456789="];

/** What to build: the Reasoner's and the Talker's configurations (vocab is set from CHARS). */
export interface TalkerSpec {
  reasoner: Omit<TransformerConfig, "vocab">;
  talker: Omit<TalkerConfig, "stack" | "latentDim"> & { stack: Omit<TransformerConfig, "vocab"> };
  answerLength: number;
}

/** Builds both models with weights from `seed` and saves them as a "talker" checkpoint in dir. */
export function writeTalkerCheckpoint(engine: Engine, dir: string, spec: TalkerSpec, seed: number): void {
  const vocab = CHARS.length + 2;
  const reasonerConfig = { ...spec.reasoner, vocab };
  const talkerConfig: TalkerConfig = { ...spec.talker, latentDim: spec.reasoner.dModel, stack: { ...spec.talker.stack, vocab } };
  const rng = new Rng(seed);
  const reasoner = new Reasoner(engine, reasonerConfig, rng);
  const talker = talkerConfig.kind === "mono" ? new MonoTalker(engine, talkerConfig, rng) : new DualTalker(engine, talkerConfig, rng);
  for (const store of [reasoner.lm.params, talker.params]) spread(store, rng);
  reasoner.resetEma();
  const config = { kind: "talker", talker: talkerConfig, reasoner: reasonerConfig, tokenizer: { kind: "char", chars: CHARS }, answer: { start: null, length: spec.answerLength }, latents: "rollout" };
  saveCheckpoint(dir, {
    config, state: { step: 0, dataPosition: 0, rng: rng.getState(), best: null },
    model: talkerGroup(reasoner, talker), optimizer: null,
    ema: new Map([[`reasoner.${EMA_NAME}`, { shape: reasoner.ema.shape, data: reasoner.ema.view() }]]),
  });
}

/** Matrices N(0, 0.3²), gains 1 + N(0, 0.2²), QK-Norm temperatures N(0, 0.3²). */
function spread(store: ParamStore, rng: Rng): void {
  for (const p of store.list()) {
    const gain = p.rank === 1 && !p.name.endsWith("qk_temp");
    const values = rng.normals(p.size, gain ? 0.2 : 0.3);
    if (gain) for (let i = 0; i < values.length; i++) values[i] += 1;
    store.load(p.name, values);
  }
}
