/**
 * `jepa talker`: phase 3, a Mono- or Dual-Talker trained to read a frozen Reasoner's latent
 * chains. The checkpoint holds both models ("talker.*", "reasoner.*") and the EMA target, so
 * `jepa generate` needs nothing else.
 */
import { Rng } from "../engine/rng.js";
import { DualTalker } from "../model/dual-talker.js";
import { MonoTalker } from "../model/mono-talker.js";
import { preset, TALKER_PRESETS } from "../model/presets.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import type { TalkerConfig } from "../model/talker-config.js";
import type { LossPositions } from "../data/dataset.js";
import { chainSpan, talkerPhase, type ChainSpan, type LatentSource } from "../train/talker-phase.js";
import { groupToParams } from "../train/weights.js";
import { intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { trainAndReport } from "./train-commands.js";
import {
  checkpointFromFlag, loadTrainData, rejectModelFlags, requireFlag, stackSizesFromFlags, tokenizerFromConfig,
  TRAIN_FLAGS, TRAIN_FLAGS_HELP, trainSettingsFromFlags, transformerConfigFrom, usage, type FlagValues, type TrainData,
} from "./train-flags.js";
import { refuseUnusedTensors } from "./unused-tensors.js";

/** Help text of `jepa talker`. */
export const TALKER_HELP = `usage: jepa talker --reasoner DIR --data FILE --out DIR [flags]

Phase 3: trains a Talker on the latent chains of a frozen Reasoner (--reasoner, a "reasoner"
checkpoint). The chain covers the answer: it is read at each example's loss_start, so answers
may start at different indices (with --loss answer), and runs to the longest training answer;
no evaluation answer may be longer. Writes a self-contained checkpoint of kind "talker".
Defaults: --lr 2e-3, --loss answer.

talker:
  --reasoner DIR          SST checkpoint (kind "reasoner") (required)
  --kind mono|dual        Mono-Talker (one pass) or Dual-Talker (encoder + decoder) (default mono)
  --talker-preset NAME    ${Object.keys(TALKER_PRESETS).join(", ")} (default small)
  --talker-d-model N --talker-layers N --talker-heads N --talker-attn-dim N --talker-mlp-dim N
  --talker-norm-eps X --talker-rope-base X --talker-attn-scale X
                          override single fields of the preset
  --talker-encoder-layers N   Dual-Talker encoder blocks (default: the preset's)
  --latents teacher|rollout   training chains: teacher-forced or free-running (default rollout: it matches inference and scored higher, see README)
  --causal                Mono-Talker attends causally over the chain (default bidirectional)
${TRAIN_FLAGS_HELP}`;

const s = { type: "string" } as const;
const TALKER_FLAGS = {
  ...TRAIN_FLAGS, reasoner: s, kind: s, "talker-preset": s, "talker-d-model": s, "talker-layers": s, "talker-heads": s,
  "talker-attn-dim": s, "talker-mlp-dim": s, "talker-norm-eps": s, "talker-rope-base": s, "talker-attn-scale": s, "talker-encoder-layers": s,
  latents: s, causal: { type: "boolean" },
} as const;

/** Runs `jepa talker`. */
export async function talkerCommand(argv: string[]): Promise<void> {
  rejectModelFlags(argv, "talker", "--reasoner (size the Talker with --talker-*)");
  const f = parseFlags(argv, TALKER_FLAGS, "talker");
  const out = requireFlag(f, "out", "talker");
  const dir = requireFlag(f, "reasoner", "talker");
  const ckpt = checkpointFromFlag(dir, "reasoner", ["reasoner"]);
  const reasonerConfig = transformerConfigFrom(ckpt.config.model, dir);
  const ema = ckpt.ema?.get(EMA_NAME);
  if (!ema) throw new Error(`${dir}: checkpoint has no EMA target (${EMA_NAME})`);
  const tokenizer = await tokenizerFromConfig(ckpt.config.tokenizer, dir);
  const talker = talkerConfigFromFlags(f, reasonerConfig.dModel, reasonerConfig.vocab);
  const latents = (f.latents ?? "rollout") as LatentSource;
  if (latents !== "teacher" && latents !== "rollout") throw new UsageError(`--latents must be 'teacher' or 'rollout', got '${latents}'`);
  const data = loadTrainData(f, "talker", { tokenizer, vocab: reasonerConfig.vocab });
  const settings = trainSettingsFromFlags(f, data, { lr: 2e-3, loss: "answer" });
  const answer = talkerChainSpan(data, f, settings.loss);
  const config = { kind: "talker", talker, reasoner: reasonerConfig, tokenizer: tokenizer?.toJSON() ?? null, answer, latents, init: dir, data: data.fingerprint };
  await trainAndReport("talker", f, out, settings, data.train, (engine) => {
    const reasoner = new Reasoner(engine, reasonerConfig, new Rng(settings.seed));
    groupToParams(ckpt.model, reasoner.lm.params, "", dir);
    refuseUnusedTensors(ckpt.model, [[reasoner.lm.params, ""]], dir);
    reasoner.ema.view().set(ema.data);
    const rng = new Rng(settings.seed + 1);
    const model = talker.kind === "mono" ? new MonoTalker(engine, talker, rng) : new DualTalker(engine, talker, rng);
    return talkerPhase(engine, reasoner, model, config, answer, latents, settings.seq, data.eval);
  });
}

/** The Talker's configuration from --kind, --talker-preset and the --talker-* overrides. */
function talkerConfigFromFlags(f: FlagValues, latentDim: number, vocab: number): TalkerConfig {
  const kind = (f.kind as string | undefined) ?? "mono";
  if (kind !== "mono" && kind !== "dual") throw new UsageError(`--kind must be 'mono' or 'dual', got '${kind}'`);
  const base = usage(() => preset(TALKER_PRESETS, (f["talker-preset"] as string | undefined) ?? "small", "talker"), "--talker-preset");
  const sizes = stackSizesFromFlags(f, base, "talker-");
  if (kind === "mono" && f["talker-encoder-layers"] !== undefined) throw new UsageError("--talker-encoder-layers applies only to --kind dual");
  if (kind === "dual" && f.causal) throw new UsageError("--causal applies only to --kind mono (the Dual-Talker's encoder is bidirectional)");
  // A preset sized for the Mono-Talker has no encoder; a Dual one then mirrors its decoder depth.
  const encoderLayers = kind === "dual" ? intFlag(f["talker-encoder-layers"] as string | undefined, "talker-encoder-layers", base.encoderLayers || sizes.layers, 1, 1024) : 0;
  return { kind, latentDim, stack: { vocab, ...sizes }, encoderLayers, causal: f.causal === true };
}

/**
 * The chain span of both splits: their shared answer start, or (start null) each example's own,
 * and the longest training answer, which no evaluation answer may exceed. Per-example starts are
 * found from where a row's targets begin, so they need --loss answer.
 */
function talkerChainSpan(data: TrainData, f: FlagValues, loss: LossPositions): ChainSpan {
  const train = chainSpan(data.train), evaluation = chainSpan(data.eval);
  const evalFile = f.eval ?? f.data;
  if (evaluation.length > train.length) throw new UsageError(`${evalFile}: evaluation answers are longer than the training answers (${evaluation.length} > ${train.length} tokens)`);
  const start = train.start === evaluation.start ? train.start : null;
  if (start === null && loss === "all") throw new UsageError("talker: --loss all needs every answer (training and evaluation) to start at the same index; answers here start at different ones (use --loss answer)");
  return { start, length: train.length };
}
