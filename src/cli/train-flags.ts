/**
 * Flags shared by the training commands (pretrain, sst, talker, baseline) and their parsing
 * into a dataset split, TrainSettings and a model configuration. Everything here is checked
 * before an engine starts or an output directory is created, so bad input leaves nothing behind.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { maxLength, type Dataset, type LossPositions } from "../data/dataset.js";
import { BPE_MIN_VOCAB } from "../data/bpe.js";
import { decodeUtf8Lines, jsonlTexts, parseJsonlDataset } from "../data/jsonl.js";
import { buildTokenizer, restoreTokenizer, TOKENIZER_SPECS, type Tokenizer } from "../data/tokenizer.js";
import { QK_NORMS, validateConfig, type QKNorm, type TransformerConfig } from "../model/config.js";
import { MODEL_PRESETS, preset, type StackSizes } from "../model/presets.js";
import { DEFAULT_QK_TEMP } from "../model/qk-norm.js";
import { loadCheckpoint, type Checkpoint } from "../train/checkpoint.js";
import type { TrainSettings } from "../train/loop.js";
import { floatFlag, intFlag } from "./args.js";
import { UsageError } from "./errors.js";

/** Parsed flag values as node's parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | undefined>;

const str = { type: "string" } as const;
const bool = { type: "boolean" } as const;

/** Flags every training command accepts. */
export const TRAIN_FLAGS = {
  data: str, eval: str, steps: str, batch: str, seq: str, lr: str, "min-lr": str, warmup: str,
  "weight-decay": str, beta1: str, beta2: str, clip: str, "eval-every": str, "checkpoint-every": str,
  "log-every": str, loss: str, seed: str, out: str, threads: str, memory: str, json: bool,
} as const;

/** Model-size flags: only for commands that build a fresh Transformer (pretrain). */
export const MODEL_FLAGS = {
  preset: str, "d-model": str, layers: str, heads: str, "attn-dim": str, "mlp-dim": str, "norm-eps": str, "rope-base": str, "attn-scale": str, "qk-norm": str, "qk-temp": str,
} as const;

/** Help lines of TRAIN_FLAGS, shared by the commands' help texts. */
export const TRAIN_FLAGS_HELP = `data and output:
  --data FILE             training examples, JSON Lines ({"text"| "tokens", "loss_start"}) (required)
  --eval FILE             evaluation examples (default: the last 5% of --data, at least 1)
  --out DIR               checkpoint directory; an existing checkpoint of the same run is resumed (required)
training:
  --steps N               optimizer steps (default 1000)
  --batch N               examples per step (default 32)
  --seq N                 input length (default: longest example - 1; must fit every example)
  --lr X                  peak learning rate
  --min-lr X              final learning rate of the cosine decay (default lr / 10)
  --warmup N              linear warmup steps (default min(100, steps / 10))
  --weight-decay X        AdamW decoupled weight decay (default 0.1)
  --beta1 X --beta2 X     AdamW moments (default 0.9, 0.95)
  --clip X                gradient-norm clip, 0 = off (default 1)
  --loss all|answer       positions with a loss: every next token, or from each loss_start on
  --eval-every N          evaluate every N steps and at the end (default 100)
  --checkpoint-every N    save every N steps and at the end (default 100)
  --log-every N           progress line every N steps, on stderr (default 10)
  --seed N                initialisation and data order (default 1)
engine and output:
  --threads N             threads (default: all cores, ${availableParallelism()} here)
  --memory MB             engine memory to reserve (default 2048)
  --json                  print one JSON object as the last stdout line`;

/** Help lines of MODEL_FLAGS. */
export const MODEL_FLAGS_HELP = `model (a preset, then per-field overrides):
  --preset NAME           ${Object.keys(MODEL_PRESETS).join(", ")} (default small)
  --d-model N --layers N --heads N --attn-dim N --mlp-dim N --norm-eps X --rope-base X
  --attn-scale X          multiplier of the 1/sqrt(head dim) softmax scale (default 1)
  --qk-norm KIND          paper (RMS per head, default), temp (a learnable per-head temperature,
                          logits g·cos(q, k)) or none
  --qk-temp X             initial temperature g of --qk-norm temp (default 10)`;

/** A required string flag, or a usage error naming it. */
export function requireFlag(f: FlagValues, name: string, command: string): string {
  const v = f[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`${command}: --${name} is required (see \`jepa ${command} --help\`)`);
  return v;
}

/** A preset's sizes plus the flags overriding single fields; `prefix` is "" or "talker-". */
export function stackSizesFromFlags(f: FlagValues, base: StackSizes, prefix = ""): StackSizes {
  const i = (name: string, fallback: number, max: number) => intFlag(f[prefix + name] as string | undefined, prefix + name, fallback, 1, max);
  const s: StackSizes = {
    dModel: i("d-model", base.dModel, 65536),
    layers: i("layers", base.layers, 1024),
    heads: i("heads", base.heads, 1024),
    attnDim: i("attn-dim", base.attnDim, 65536),
    mlpDim: i("mlp-dim", base.mlpDim, 262144),
    normEps: floatFlag(f[prefix + "norm-eps"] as string | undefined, prefix + "norm-eps", base.normEps, { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    ropeBase: floatFlag(f[prefix + "rope-base"] as string | undefined, prefix + "rope-base", base.ropeBase, { min: 1, max: 1e9, minExclusive: true }),
  };
  const scale = f[prefix + "attn-scale"] as string | undefined;
  if (scale !== undefined || base.attnScale !== undefined) {
    s.attnScale = floatFlag(scale, prefix + "attn-scale", base.attnScale ?? 1, { min: 0, max: 64, minExclusive: true });
  }
  Object.assign(s, qkNormFromFlags(f[prefix + "qk-norm"] as string | undefined, f[prefix + "qk-temp"] as string | undefined, base, prefix));
  if (s.attnDim % s.heads !== 0) throw new UsageError(`--${prefix}heads ${s.heads} does not divide --${prefix}attn-dim ${s.attnDim}`);
  if ((s.attnDim / s.heads) % 4 !== 0) throw new UsageError(`--${prefix}attn-dim / --${prefix}heads = ${s.attnDim / s.heads} must be a multiple of 4 (the head dimension)`);
  return s;
}

/** The QK-Norm fields of --qk-norm and --qk-temp over a preset's (absent fields stay absent). */
export function qkNormFromFlags(kind: string | undefined, temp: string | undefined, base: Pick<StackSizes, "qkNorm" | "qkTemp">, prefix = ""): Pick<StackSizes, "qkNorm" | "qkTemp"> {
  const out: Pick<StackSizes, "qkNorm" | "qkTemp"> = {};
  const qkNorm = kind ?? base.qkNorm;
  if (qkNorm !== undefined) {
    if (!(QK_NORMS as readonly string[]).includes(qkNorm)) throw new UsageError(`--${prefix}qk-norm must be one of ${QK_NORMS.join(", ")}, got '${qkNorm}'`);
    out.qkNorm = qkNorm as QKNorm;
  }
  if (temp !== undefined && out.qkNorm !== "temp") throw new UsageError(`--${prefix}qk-temp needs --${prefix}qk-norm temp`);
  if (out.qkNorm === "temp") out.qkTemp = floatFlag(temp, prefix + "qk-temp", base.qkTemp ?? DEFAULT_QK_TEMP, { min: 0, max: 1000, minExclusive: true });
  return out;
}

/** The Transformer configuration of --preset and the size flags, for a vocabulary. */
export function modelConfigFromFlags(f: FlagValues, vocab: number): TransformerConfig {
  const name = (f.preset as string | undefined) ?? "small";
  const base = usage(() => preset(MODEL_PRESETS, name, "model"), "--preset");
  const config = { vocab, ...stackSizesFromFlags(f, base) };
  usage(() => validateConfig(config), "model");
  return config;
}

/** Rejects model-size flags in commands whose sizes come from a checkpoint. */
export function rejectModelFlags(argv: string[], command: string, from: string): void {
  const bad = argv.find((a) => Object.keys(MODEL_FLAGS).some((k) => a === `--${k}` || a.startsWith(`--${k}=`)));
  if (bad) throw new UsageError(`${command}: ${bad.split("=")[0]} is not accepted: the model's sizes come from ${from}`);
}

/** Training and evaluation examples, and the tokenizer they were read with (null: token ids). */
export interface TrainData {
  train: Dataset;
  eval: Dataset;
  tokenizer: Tokenizer | null;
  /** Identifies the data in the checkpoint config, so a resume on changed data is refused. */
  fingerprint: { sha256: string; evalSha256: string | null; trainExamples: number; evalExamples: number };
}

/** What a dataset must agree with: a checkpoint's tokenizer and vocabulary. */
export interface Vocabulary {
  tokenizer: Tokenizer | null;
  vocab: number;
}

/** Reads --data (and --eval, or a held-out 5% of --data); `fixed` pins the vocabulary. */
export function loadTrainData(f: FlagValues, command: string, fixed: Vocabulary | null): TrainData {
  const dataPath = requireFlag(f, "data", command);
  const first = readDataset(dataPath, fixed);
  const vocabulary = fixed ?? { tokenizer: first.tokenizer, vocab: first.dataset.vocab };
  let train = first.dataset, evalData: Dataset, evalSha256: string | null = null;
  if (typeof f.eval === "string") {
    const second = readDataset(f.eval, vocabulary);
    evalData = second.dataset;
    evalSha256 = second.sha256;
  } else {
    const n = train.examples.length;
    if (n < 2) throw new UsageError(`${dataPath}: needs at least 2 examples to hold out an evaluation split (or pass --eval)`);
    const held = Math.max(1, Math.floor(n * 0.05));
    evalData = { ...train, examples: train.examples.slice(n - held) };
    train = { ...train, examples: train.examples.slice(0, n - held) };
  }
  const fingerprint = { sha256: first.sha256, evalSha256, trainExamples: train.examples.length, evalExamples: evalData.examples.length };
  return { train, eval: evalData, tokenizer: vocabulary.tokenizer, fingerprint };
}

/** Help line of --tokenizer (pretrain only: later phases read the tokenizer from their --init). */
export const TOKENIZER_FLAG_HELP = `tokenizer:
  --tokenizer SPEC        ${TOKENIZER_SPECS} (default char)
                          text datasets only; learned from --data, stored for the later phases;
                          loss_start counts its tokens`;

/**
 * The tokenizer --tokenizer names, built on the texts of --data (as the default character
 * tokenizer is), or null without the flag. The spec is checked before the data is read.
 */
export async function tokenizerFromFlag(f: FlagValues, command: string): Promise<Tokenizer | null> {
  const spec = f.tokenizer as string | undefined;
  if (spec === undefined) return null;
  checkTokenizerSpec(spec);
  const path = requireFlag(f, "data", command);
  const texts = jsonlTexts(readDataFile(path), path);
  if (texts === null) throw new UsageError(`--tokenizer applies to text datasets, but ${path} holds token ids`);
  return buildTokenizer(spec, texts);
}

/** Throws one clear UsageError unless spec names a tokenizer buildTokenizer can make (bpe:N with N in range). */
export function checkTokenizerSpec(spec: string): void {
  const bpe = /^bpe:(.*)$/.exec(spec);
  if (bpe) intFlag(bpe[1], "tokenizer bpe:N", 0, BPE_MIN_VOCAB, 65536);
  else if (spec !== "char" && spec !== "gpt2") throw new UsageError(`--tokenizer must be one of ${TOKENIZER_SPECS}, got '${spec}'`);
}

function readDataFile(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return decodeUtf8Lines(bytes, path);
}

function readDataset(path: string, fixed: Vocabulary | null): { dataset: Dataset; tokenizer: Tokenizer | null; sha256: string } {
  const text = readDataFile(path);
  const parsed = parseJsonlDataset(text, path, fixed ? { tokenizer: fixed.tokenizer ?? undefined, vocab: fixed.vocab } : {});
  if (fixed && fixed.tokenizer && !parsed.tokenizer) throw new UsageError(`${path} holds token ids, but the model reads text with a ${fixed.tokenizer.kind} tokenizer`);
  if (fixed && !fixed.tokenizer && parsed.tokenizer) throw new UsageError(`${path} holds text, but the model was trained on token ids`);
  return { ...parsed, sha256: createHash("sha256").update(text).digest("hex") };
}

/** Per-command defaults of the training flags. */
export interface TrainDefaults {
  lr: number;
  loss: LossPositions;
}

/** TrainSettings from the flags; --seq must fit every example of both splits. */
export function trainSettingsFromFlags(f: FlagValues, data: TrainData, defaults: TrainDefaults): TrainSettings {
  const s = (name: string) => f[name] as string | undefined;
  const steps = intFlag(s("steps"), "steps", 1000, 1, 100_000_000);
  const lr = floatFlag(s("lr"), "lr", defaults.lr, { min: 0, max: 10, minExclusive: true });
  const longest = Math.max(maxLength(data.train), maxLength(data.eval));
  const seq = intFlag(s("seq"), "seq", longest - 1, 1, 1 << 20);
  if (seq < longest - 1) throw new UsageError(`--seq ${seq} is too short: the longest example has ${longest} tokens, so --seq must be at least ${longest - 1}`);
  const loss = s("loss") ?? defaults.loss;
  if (loss !== "all" && loss !== "answer") throw new UsageError(`--loss must be 'all' or 'answer', got '${loss}'`);
  return {
    steps,
    batch: intFlag(s("batch"), "batch", 32, 1, 65536),
    seq,
    lr,
    minLr: floatFlag(s("min-lr"), "min-lr", lr / 10, { min: 0, max: lr }),
    warmup: intFlag(s("warmup"), "warmup", Math.min(100, Math.floor(steps / 10)), 0, steps),
    weightDecay: floatFlag(s("weight-decay"), "weight-decay", 0.1, { min: 0, max: 10 }),
    beta1: floatFlag(s("beta1"), "beta1", 0.9, { min: 0, max: 1, maxExclusive: true }),
    beta2: floatFlag(s("beta2"), "beta2", 0.95, { min: 0, max: 1, maxExclusive: true }),
    clip: floatFlag(s("clip"), "clip", 1, { min: 0, max: 1e9 }),
    evalEvery: intFlag(s("eval-every"), "eval-every", 100, 1),
    checkpointEvery: intFlag(s("checkpoint-every"), "checkpoint-every", 100, 1),
    logEvery: intFlag(s("log-every"), "log-every", 10, 1),
    seed: intFlag(s("seed"), "seed", 1, 0, 2 ** 32 - 1),
    loss,
  };
}

/** Engine options from --threads and --memory. */
export function engineOptionsFromFlags(f: FlagValues): { threads: number; memoryMB: number } {
  return {
    threads: intFlag(f.threads as string | undefined, "threads", availableParallelism(), 1, 256),
    memoryMB: intFlag(f.memory as string | undefined, "memory", 2048, 64, 4096),
  };
}

/**
 * Loads the checkpoint a flag points at, of one of `kinds`. Directories without state.json are
 * refused before loading, because loading tidies up leftover `.next` files in the directory.
 */
export function checkpointFromFlag(dir: string, flag: string, kinds?: string[]): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--${flag} ${dir}: no such checkpoint directory`);
  if (!existsSync(join(dir, "state.json")) && !existsSync(join(dir, "state.json.next"))) {
    throw new UsageError(`--${flag} ${dir} is not a checkpoint (no state.json)`);
  }
  return loadCheckpoint(dir, kinds);
}

/** The tokenizer a checkpoint's config stores (null when it was trained on token ids). */
export async function tokenizerFromConfig(value: unknown, dir: string): Promise<Tokenizer | null> {
  if (value === null || value === undefined) return null;
  return restoreTokenizer(value, `${dir}/config.json`);
}

/** A Transformer config stored in a checkpoint, checked before models are built from it. */
export function transformerConfigFrom(value: unknown, dir: string): TransformerConfig {
  const c = value as TransformerConfig;
  if (!c || typeof c !== "object") throw new Error(`${dir}/config.json: no model configuration`);
  try {
    validateConfig(c);
  } catch (err) {
    throw new Error(`${dir}/config.json: ${(err as Error).message}`);
  }
  return c;
}

/** Runs fn, turning its error into a usage error prefixed with `what`. */
export function usage<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
}
