/**
 * `jepa pretrain`, `jepa sst` and `jepa baseline`: the Transformer phases of the recipe, and
 * the shared run-and-report step every training command ends with (the Talker is in
 * talker-command.ts).
 */
import { createNodeEngine } from "../engine/node.js";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { Reasoner } from "../model/reasoner.js";
import { TransformerLM } from "../model/transformer.js";
import { checkpointConfig, hasCheckpoint } from "../train/checkpoint.js";
import { lmPhase } from "../train/lm-phase.js";
import { runTraining, type Phase, type RunResult, type TrainSettings } from "../train/loop.js";
import { sstPhase } from "../train/sst-phase.js";
import { groupToParams } from "../train/weights.js";
import { floatFlag, intFlag, parseFlags } from "./args.js";
import { removeFailedRun } from "./failed-run.js";
import { claimOutputDir } from "./output-guard.js";
import {
  checkpointFromFlag, engineOptionsFromFlags, loadTrainData, MODEL_FLAGS, MODEL_FLAGS_HELP, modelConfigFromFlags, rejectModelFlags,
  requireFlag, TOKENIZER_FLAG_HELP, tokenizerFromConfig, tokenizerFromFlag, TRAIN_FLAGS, TRAIN_FLAGS_HELP, trainSettingsFromFlags,
  transformerConfigFrom, type FlagValues,
} from "./train-flags.js";
import { refuseUnusedTensors } from "./unused-tensors.js";

/** Help text of `jepa pretrain`. */
export const PRETRAIN_HELP = `usage: jepa pretrain --data FILE --out DIR [flags]

Phase 1: trains a Transformer LM (tied head) with next-token cross-entropy. Writes a
checkpoint of kind "transformer" (role "pretrain") that \`jepa sst\` and \`jepa baseline\` start from.
Defaults: --lr 3e-3, --loss all.

${MODEL_FLAGS_HELP}
${TOKENIZER_FLAG_HELP}
${TRAIN_FLAGS_HELP}`;

/** Help text of `jepa sst`. */
export const SST_HELP = `usage: jepa sst --init DIR --data FILE --out DIR [flags]

Phase 2, self-supervised training: the pretrained Transformer (--init, a "transformer"
checkpoint) becomes a Reasoner whose normalised outputs predict the EMA target embedding of
the next token, loss k(1 - cos). Writes a checkpoint of kind "reasoner" (weights + EMA target).
The data is read with the tokenizer stored in --init. Defaults: --lr 1e-3, --loss answer.

sst:
  --init DIR              pretrained checkpoint (kind "transformer") (required)
  --k X                   loss scale k (default 4)
  --momentum X            EMA momentum of the target embedding, in [0, 1] (default 0.98)
  --blocks N              keep only the first N blocks of --init (default: all)
${TRAIN_FLAGS_HELP}`;

/** Help text of `jepa baseline`. */
export const BASELINE_HELP = `usage: jepa baseline --init DIR --data FILE --out DIR [flags]

The coupled baseline T: the pretrained Transformer (--init, a "transformer" checkpoint)
trained further with cross-entropy on the same data. Writes a checkpoint of kind
"transformer" (role "baseline"). Defaults: --lr 1e-3, --loss answer.

baseline:
  --init DIR              pretrained checkpoint (kind "transformer") (required)
${TRAIN_FLAGS_HELP}`;

/** Runs `jepa pretrain`. */
export async function pretrainCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, { ...TRAIN_FLAGS, ...MODEL_FLAGS, tokenizer: { type: "string" } }, "pretrain");
  const out = requireFlag(f, "out", "pretrain");
  const tokenizer = await tokenizerFromFlag(f, "pretrain");
  const data = loadTrainData(f, "pretrain", tokenizer && { tokenizer, vocab: tokenizer.size });
  const model = modelConfigFromFlags(f, data.train.vocab);
  const settings = trainSettingsFromFlags(f, data, { lr: 3e-3, loss: "all" });
  const config = { kind: "transformer", model, tokenizer: data.tokenizer?.toJSON() ?? null, role: "pretrain", data: data.fingerprint };
  await trainAndReport("pretrain", f, out, settings, data.train, (engine) => {
    const lm = new TransformerLM(engine, model, new Rng(settings.seed));
    return lmPhase(engine, lm, config, data.eval, settings.seq, settings.loss);
  });
}

/** Runs `jepa baseline`. */
export async function baselineCommand(argv: string[]): Promise<void> {
  rejectModelFlags(argv, "baseline", "--init");
  const f = parseFlags(argv, { ...TRAIN_FLAGS, init: { type: "string" } }, "baseline");
  const out = requireFlag(f, "out", "baseline");
  const init = requireFlag(f, "init", "baseline");
  const ckpt = checkpointFromFlag(init, "init", ["transformer"]);
  const model = transformerConfigFrom(ckpt.config.model, init);
  const tokenizer = await tokenizerFromConfig(ckpt.config.tokenizer, init);
  const data = loadTrainData(f, "baseline", { tokenizer, vocab: model.vocab });
  const settings = trainSettingsFromFlags(f, data, { lr: 1e-3, loss: "answer" });
  const config = { kind: "transformer", model, tokenizer: tokenizer?.toJSON() ?? null, role: "baseline", init, data: data.fingerprint };
  await trainAndReport("baseline", f, out, settings, data.train, (engine) => {
    const lm = new TransformerLM(engine, model, new Rng(settings.seed));
    groupToParams(ckpt.model, lm.params, "", init);
    refuseUnusedTensors(ckpt.model, [[lm.params, ""]], init);
    return lmPhase(engine, lm, config, data.eval, settings.seq, settings.loss);
  });
}

/** Runs `jepa sst`. */
export async function sstCommand(argv: string[]): Promise<void> {
  rejectModelFlags(argv, "sst", "--init (use --blocks to keep fewer blocks)");
  const flags = { ...TRAIN_FLAGS, init: { type: "string" }, k: { type: "string" }, momentum: { type: "string" }, blocks: { type: "string" } } as const;
  const f = parseFlags(argv, flags, "sst");
  const out = requireFlag(f, "out", "sst");
  const init = requireFlag(f, "init", "sst");
  const k = floatFlag(f.k, "k", 4, { min: 0, max: 1e6, minExclusive: true });
  const momentum = floatFlag(f.momentum, "momentum", 0.98, { min: 0, max: 1 });
  const ckpt = checkpointFromFlag(init, "init", ["transformer"]);
  const pretrained = transformerConfigFrom(ckpt.config.model, init);
  const blocks = intFlag(f.blocks, "blocks", pretrained.layers, 1, pretrained.layers);
  const model = { ...pretrained, layers: blocks };
  const tokenizer = await tokenizerFromConfig(ckpt.config.tokenizer, init);
  const data = loadTrainData(f, "sst", { tokenizer, vocab: model.vocab });
  const settings = trainSettingsFromFlags(f, data, { lr: 1e-3, loss: "answer" });
  const config = { kind: "reasoner", model, tokenizer: tokenizer?.toJSON() ?? null, sst: { k, momentum }, init, blocks, data: data.fingerprint };
  await trainAndReport("sst", f, out, settings, data.train, (engine) => {
    const reasoner = new Reasoner(engine, model, new Rng(settings.seed));
    // Loading the group into a store of `blocks` blocks takes the first blocks of a deeper
    // model without building it (what copyFirstBlocks does between two live models).
    groupToParams(ckpt.model, reasoner.lm.params, "", init);
    reasoner.resetEma();
    return sstPhase(engine, reasoner, config, { k, momentum }, data.eval, settings.seq, settings.loss);
  });
}

/** What each training command writes, by which an unmarked earlier run of it is told from another command's checkpoint. */
const WRITES: Record<string, { kind: string; role?: string }> = {
  pretrain: { kind: "transformer", role: "pretrain" },
  baseline: { kind: "transformer", role: "baseline" },
  sst: { kind: "reasoner" },
  talker: { kind: "talker" },
};

/** Whether dir holds a checkpoint that loads and is of the kind (and role) that command writes. */
function isOwnCheckpoint(dir: string, command: string): boolean {
  const config = checkpointConfig(dir);
  const writes = WRITES[command];
  return config !== null && writes !== undefined && config.kind === writes.kind && (writes.role === undefined || config.role === writes.role);
}

/**
 * Starts the engine, builds the phase, trains (resuming when --out holds this run), and prints
 * the summary. --out is checked and locked first (see output-guard.ts); a run that fails
 * before its first checkpoint removes what it wrote, and the --out folder if it created it and
 * nothing else is in it (see failed-run.ts).
 */
export async function trainAndReport(command: string, f: FlagValues, out: string, settings: TrainSettings, train: Parameters<typeof runTraining>[1], build: (engine: Engine) => Phase): Promise<void> {
  const inputs = [f.data, f.eval, f.init, f.reasoner].filter((x): x is string => typeof x === "string");
  const lock = claimOutputDir(out, command, inputs, (dir) => isOwnCheckpoint(dir, command));
  let result: RunResult;
  try {
    result = await trainWithEngine(command, f, out, settings, train, build);
  } catch (err) {
    if (lock.created !== null && !hasCheckpoint(out)) removeFailedRun(out, lock);
    throw err;
  } finally {
    lock.release();
  }
  printRunSummary(command, out, settings, result, f.json === true);
}

async function trainWithEngine(command: string, f: FlagValues, out: string, settings: TrainSettings, train: Parameters<typeof runTraining>[1], build: (engine: Engine) => Phase): Promise<RunResult> {
  const engine = await createNodeEngine(engineOptionsFromFlags(f));
  // The loop never yields to the event loop, so Ctrl+C kills at once: say with the first line what to do then.
  let hinted = false;
  const log = (line: string) => {
    console.error(line);
    if (!hinted) console.error(`${command}: if stopped (Ctrl+C), rerun the same command to resume from the last checkpoint in ${out}`);
    hinted = true;
  };
  try {
    return runTraining(engine, train, build(engine), settings, { outDir: out, label: command, log });
  } finally {
    await engine.close();
  }
}

function printRunSummary(command: string, out: string, settings: TrainSettings, r: RunResult, json: boolean): void {
  const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);
  const evalRounded = r.lastEval && Object.fromEntries(Object.entries(r.lastEval).map(([k, v]) => [k, round(v)]));
  if (json) {
    const summary = { command, out, steps: settings.steps, resumed_from: r.resumedFrom, final_loss: round(r.finalLoss), eval: evalRounded, best: r.best, seconds: Number(r.seconds.toFixed(3)) };
    console.log(JSON.stringify(summary));
    return;
  }
  const shown = (m: Record<string, number | null>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(", ");
  console.log([
    `${command}: ${settings.steps} steps` + (r.resumedFrom > 0 ? ` (resumed at ${r.resumedFrom})` : "") + ` in ${r.seconds.toFixed(1)} s`
      + (Number.isFinite(r.finalLoss) ? `, final loss ${round(r.finalLoss)}` : ""),
    evalRounded ? `eval: ${shown(evalRounded)}` : "eval: (none this run)",
    r.best ? `best: ${r.best.metric} ${round(r.best.value)} at step ${r.best.step} (in ${out}/best)` : "best: none",
    `checkpoint: ${out}`,
  ].join("\n"));
}
