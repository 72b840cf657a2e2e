/**
 * `jepa generate`: rolls the Reasoner out in latent space from a prompt, then lets the Talker
 * read the finished chain. Prints a compact summary of every latent (its norm and the nearest
 * vocabulary rows of the EMA target embedding) and the Talker's text.
 */
import { createNodeEngine } from "../engine/node.js";
import { Rng } from "../engine/rng.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { nearestRows } from "../eval/cosine.js";
import { normalizeRows } from "../eval/mixed-latent.js";
import { latentsFileBytes } from "../infer/latents-file.js";
import { latentNorms, rollout, rolloutUntil } from "../infer/rollout.js";
import { dualTalk, monoTalk } from "../infer/talk.js";
import { DualTalker } from "../model/dual-talker.js";
import { MonoTalker } from "../model/mono-talker.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import { validateTalkerConfig, type TalkerConfig } from "../model/talker-config.js";
import type { ChainSpan } from "../train/talker-phase.js";
import { groupToParams } from "../train/weights.js";
import { floatFlag, intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { checkOutputFile, writeOutputFile } from "./output-guard.js";
import { isLatentsFile } from "./own-outputs.js";
import { checkpointFromFlag, engineOptionsFromFlags, requireFlag, tokenizerFromConfig, transformerConfigFrom, type FlagValues } from "./train-flags.js";
import { refuseUnusedTensors } from "./unused-tensors.js";

/** Help text of `jepa generate`. */
export const GENERATE_HELP = `usage: jepa generate --checkpoint DIR (--prompt TEXT | --tokens 1,2,3) [flags]

Rolls the Reasoner of a "talker" checkpoint out from the prompt for --steps latents, then
decodes the chain with its Talker. Prints each latent's norm and its 3 nearest tokens (cosine
to the EMA target embedding), then the Talker's output.

flags:
  --checkpoint DIR   a checkpoint of kind "talker" (required)
  --prompt TEXT      prompt text (checkpoints trained on text)
  --tokens IDS       prompt token ids, comma-separated
  --steps N          latent steps (default: the longest trained answer); the most with --stop-token
  --stop-token ID    end the chain at the first latent whose nearest EMA embedding row is token ID
  --temperature X    Talker sampling temperature; 0 = greedy (default 0)
  --top-k K          sample among the K likeliest tokens (default: all)
  --seed N           sampling seed (default 0)
  --prefix TEXT      Dual-Talker decoder prefix (text, or ids without a tokenizer) (default: the last prompt token)
  --max-tokens N     Dual-Talker tokens to decode (default: --steps)
  --no-cache         recompute the whole prefix at every rollout step instead of using the KV cache
  --latents FILE     also write the chain to FILE: safetensors, one F32 tensor 'latents' (steps, dModel)
                     (docs/checkpoint-format.md); an existing file is replaced only if generate wrote it
  --threads N        threads (default: all cores)
  --memory MB        engine memory to reserve (default 2048)
  --json             print one JSON object as the last stdout line`;

const s = { type: "string" } as const;
const FLAGS = {
  checkpoint: s, prompt: s, tokens: s, steps: s, "stop-token": s, temperature: s, "top-k": s, seed: s, prefix: s, "max-tokens": s,
  "no-cache": { type: "boolean" }, latents: s, threads: s, memory: s, json: { type: "boolean" },
} as const;

interface TalkerCheckpointConfig {
  talker: TalkerConfig;
  reasoner: unknown;
  tokenizer: unknown;
  /** Only its length is read: the answer starts where the prompt ends, whatever start training used (older checkpoints store a numeric one). */
  answer: ChainSpan;
}

/** Runs `jepa generate`. */
export async function generateCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "generate");
  const dir = requireFlag(f, "checkpoint", "generate");
  const engineOptions = engineOptionsFromFlags(f);
  const latentsFile = f.latents as string | undefined;
  if (latentsFile !== undefined) checkOutputFile(latentsFile, [dir], "latents", "generate", isLatentsFile);
  const ckpt = checkpointFromFlag(dir, "checkpoint", ["talker"]);
  const cfg = ckpt.config as unknown as TalkerCheckpointConfig;
  const reasonerConfig = transformerConfigFrom(cfg.reasoner, dir);
  try {
    // A missing or null field would otherwise surface as "Cannot read properties of null".
    if (typeof cfg.talker !== "object" || cfg.talker === null) throw new Error("no talker configuration");
    validateTalkerConfig(cfg.talker);
  } catch (err) {
    throw new Error(`${dir}/config.json: ${(err as Error).message}`);
  }
  const tokenizer = await tokenizerFromConfig(cfg.tokenizer, dir);
  const V = reasonerConfig.vocab;
  const prompt = promptIds(f, tokenizer, V);
  const steps = intFlag(f.steps, "steps", cfg.answer?.length ?? 1, 1, 65536);
  const sampling = {
    temperature: floatFlag(f.temperature, "temperature", 0, { min: 0, max: 1000 }),
    topK: intFlag(f["top-k"], "top-k", V, 1, V),
    rng: new Rng(intFlag(f.seed, "seed", 0, 0, 2 ** 32 - 1)),
  };
  const dual = cfg.talker.kind === "dual";
  if (!dual && (f.prefix !== undefined || f["max-tokens"] !== undefined)) throw new UsageError("--prefix and --max-tokens apply only to a Dual-Talker checkpoint");
  const prefix = f.prefix !== undefined ? idsOf(f.prefix, "prefix", tokenizer, V) : [prompt[prompt.length - 1]];
  const maxTokens = intFlag(f["max-tokens"], "max-tokens", steps, 1, 65536);
  const stopToken = f["stop-token"] === undefined ? null : intFlag(f["stop-token"], "stop-token", 0, 0, reasonerConfig.vocab - 1);
  const emaTarget = ckpt.ema?.get(`reasoner.${EMA_NAME}`);
  if (!emaTarget) throw new Error(`${dir}: checkpoint has no reasoner.${EMA_NAME}`);

  const engine = await createNodeEngine(engineOptions);
  try {
    const reasoner = new Reasoner(engine, reasonerConfig, new Rng(0));
    groupToParams(ckpt.model, reasoner.lm.params, "reasoner.", dir);
    const talker = dual ? new DualTalker(engine, cfg.talker, new Rng(0)) : new MonoTalker(engine, cfg.talker, new Rng(0));
    groupToParams(ckpt.model, talker.params, "talker.", dir);
    refuseUnusedTensors(ckpt.model, [[reasoner.lm.params, "reasoner."], [talker.params, "talker."]], dir);
    const promptIds = engine.fromArray(prompt, [1, prompt.length], { dtype: "i32" });
    const onStep = progressLine(steps);
    const latents = stopToken === null
      ? rollout(reasoner, promptIds, { steps, cache: !f["no-cache"], onStep })
      : rolloutUntil(reasoner, promptIds, { steps, onStep, stop: { table: engine.fromArray(emaTarget.data, emaTarget.shape), token: stopToken } }).latents;
    const norms = latentNorms(latents);
    const D = reasonerConfig.dModel, unit = normalizeRows(emaTarget.data, D), chain = latents.view();
    const nearest = norms.map((_, i) => nearestRows(chain.subarray(i * D, (i + 1) * D), unit, D, 3));
    const tokens = dual
      ? dualTalk(talker as DualTalker, latents, { ...sampling, prefix: [prefix], maxTokens })[0].slice(prefix.length)
      : monoTalk(talker as MonoTalker, latents, sampling)[0];
    if (latentsFile !== undefined) {
      const bytes = latentsFileBytes(chain, norms.length, D, { checkpoint: dir, promptTokens: prompt });
      writeOutputFile(latentsFile, bytes, "latents", "generate", isLatentsFile);
    }
    print(f, { prompt, norms, nearest, tokens, kind: cfg.talker.kind }, tokenizer);
  } finally {
    await engine.close();
  }
}

/** Prompt ids from --prompt (text) or --tokens (ids); exactly one must be given. */
function promptIds(f: FlagValues, tokenizer: Tokenizer | null, vocab: number): number[] {
  if ((f.prompt === undefined) === (f.tokens === undefined)) throw new UsageError("generate: give exactly one of --prompt TEXT and --tokens IDS");
  if (f.tokens !== undefined) return parseIds(f.tokens as string, "tokens", vocab);
  if (!tokenizer) throw new UsageError("--prompt needs a checkpoint trained on text; this one reads token ids (use --tokens)");
  return idsOf(f.prompt as string, "prompt", tokenizer, vocab);
}

/** Ids of a text flag: encoded by the tokenizer, or parsed as ids when there is none. */
function idsOf(value: string, flag: string, tokenizer: Tokenizer | null, vocab: number): number[] {
  if (!tokenizer) return parseIds(value, flag, vocab);
  let ids: number[];
  try {
    ids = tokenizer.encode(value);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
  if (ids.length === 0) throw new UsageError(`--${flag} is empty`);
  return ids;
}

function parseIds(value: string, flag: string, vocab: number): number[] {
  const parts = value.split(",").map((p) => p.trim());
  const ids = parts.map(Number);
  const bad = parts.findIndex((p, i) => !/^\d+$/.test(p) || ids[i] >= vocab);
  if (bad >= 0) throw new UsageError(`--${flag}: '${parts[bad]}' is not a token id in [0, ${vocab})`);
  return ids;
}

interface Generated {
  prompt: number[];
  norms: number[];
  nearest: Array<Array<{ id: number; cos: number }>>;
  tokens: number[];
  kind: string;
}

function print(f: FlagValues, g: Generated, tokenizer: Tokenizer | null): void {
  const token = (id: number) => (tokenizer ? tokenizer.tokenText(id) : null);
  const special = (id: number) => tokenizer !== null && (id === tokenizer.padId || id === tokenizer.endId);
  const label = (id: number) => (tokenizer ? (special(id) ? token(id)! : JSON.stringify(token(id))) : `#${id}`);
  const text = tokenizer ? tokenizer.decode(g.tokens) : g.tokens.join(",");
  if (f.json) {
    const latents = g.norms.map((norm, i) => ({ norm: round(norm), nearest: g.nearest[i].map((n) => ({ id: n.id, token: token(n.id), cos: round(n.cos) })) }));
    console.log(JSON.stringify({ talker: g.kind, prompt_tokens: g.prompt, latents, tokens: g.tokens, text }));
    return;
  }
  console.log(`prompt: ${tokenizer ? JSON.stringify(tokenizer.decode(g.prompt)) : g.prompt.join(",")} (${g.prompt.length} tokens)`);
  console.log("latent  norm    nearest tokens (cosine to the EMA target embedding)");
  g.norms.forEach((norm, i) => {
    const near = g.nearest[i].map((n) => `${label(n.id)} ${n.cos.toFixed(3)}`).join("  ");
    console.log(`${String(i + 1).padStart(6)}  ${norm.toFixed(4)}  ${near}`);
  });
  console.log(`${g.kind}-talker: ${text}`);
}

function round(x: number): number {
  return Number(x.toFixed(4));
}

/** Prints "generate: latent N/M" at most every 5 s, so that a long rollout shows it is alive. */
function progressLine(steps: number): (done: number) => void {
  const start = performance.now();
  let shown = start;
  return (done) => {
    const now = performance.now();
    if (now - shown < 5000 || done === steps) return;
    shown = now;
    const eta = ((now - start) / done) * (steps - done) / 1000;
    console.error(`generate: latent ${done}/${steps}, ETA ${eta.toFixed(0)} s`);
  };
}
