/**
 * `jepa gsm8k`: few-shot evaluation of a checkpoint on GSM8K-format problems, in either
 * convention (gsm8k or gsm8k_cot). A "transformer" checkpoint is the coupled model; a "talker"
 * checkpoint is the JEPA-Reasoner with its Talker.
 */
import { readFileSync } from "node:fs";
import { createNodeEngine } from "../engine/node.js";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { parseGsm8kJsonl, type Gsm8kExample } from "../data/gsm8k.js";
import { decodeUtf8Lines } from "../data/jsonl.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { evaluateFewShot, type FewShotResult } from "../eval/gsm8k-harness.js";
import { coupledModel, jepaModel, type FewShotModel } from "../eval/gsm8k-models.js";
import { gsm8kTask, type Gsm8kTask } from "../eval/gsm8k-tasks.js";
import { DualTalker } from "../model/dual-talker.js";
import { MonoTalker } from "../model/mono-talker.js";
import { EMA_NAME, Reasoner } from "../model/reasoner.js";
import { validateTalkerConfig, type TalkerConfig } from "../model/talker-config.js";
import { TransformerLM } from "../model/transformer.js";
import type { Checkpoint } from "../train/checkpoint.js";
import { groupToParams } from "../train/weights.js";
import { floatFlag, intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { checkOutputFile, writeOutputFile } from "./output-guard.js";
import { isGsm8kItemsFile } from "./own-outputs.js";
import { checkpointFromFlag, engineOptionsFromFlags, requireFlag, tokenizerFromConfig, transformerConfigFrom, type FlagValues } from "./train-flags.js";
import { refuseUnusedTensors } from "./unused-tensors.js";

/** Help text of `jepa gsm8k`. */
export const GSM8K_HELP = `usage: jepa gsm8k --checkpoint DIR --data FILE [flags]

Few-shot evaluation on GSM8K-format problems (JSON Lines of {"question", "answer"}, the
answer ending in "#### N"), as lm-evaluation-harness scores GSM8K: greedy generation, the text
cut at the first stop sequence, accuracy of the strict extraction (gsm8k: "#### N"; gsm8k_cot:
"The answer is N.") and of the flexible one (the last number), after the harness's
normalisation (commas, $, a trailing dot).

A "transformer" checkpoint is the coupled model: it generates until its end token or a stop
sequence. A "talker" checkpoint is the JEPA-Reasoner: the prompt is the Reasoner's context; it
rolls out latents until a latent's nearest EMA target row is the end token (or --max-tokens
latents); then the Talker decodes the finished chain.

flags:
  --checkpoint DIR   a "transformer" or "talker" checkpoint trained on text (required)
  --data FILE        the problems to evaluate (required)
  --task NAME        gsm8k (default: "Question: … Answer:", worked exemplars) or gsm8k_cot
                     ("Q: … A:", the 8 fixed chain-of-thought exemplars)
  --shots N          exemplars in each prompt (default 5 for gsm8k, 8 for gsm8k_cot)
  --fewshot FILE     gsm8k: exemplars are the first N problems of FILE (the train split)
                     (default: the first N problems of --data, which are then not evaluated)
  --limit N          evaluate at most the first N problems
  --max-tokens N     tokens (latents, for the JEPA-Reasoner) per problem (default 256)
  --temperature X    0 = greedy (default); above 0 samples with --seed
  --top-k K          sample among the K likeliest tokens (default: all)
  --seed N           sampling seed (default 0)
  --samples N        print N problems with their outputs (default 3)
  --out FILE         write every problem's output and scores as JSON Lines (an existing FILE
                     is replaced only if \`jepa gsm8k --out\` wrote it)
  --threads N        threads (default: all cores)
  --memory MB        engine memory to reserve (default 2048)
  --json             print the accuracies as one JSON object on the last stdout line`;

const s = { type: "string" } as const;
const FLAGS = {
  checkpoint: s, data: s, task: s, shots: s, fewshot: s, limit: s, "max-tokens": s, temperature: s, "top-k": s, seed: s,
  samples: s, out: s, threads: s, memory: s, json: { type: "boolean" },
} as const;

/** The evaluation plan, checked before any engine starts. */
interface Plan {
  task: Gsm8kTask;
  shots: number;
  problems: Gsm8kExample[];
  exemplars: Gsm8kExample[];
  maxSteps: number;
}

/** Runs `jepa gsm8k`. */
export async function gsm8kCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "gsm8k");
  const dir = requireFlag(f, "checkpoint", "gsm8k");
  // Checked before the evaluation, so that a bad --out loses no results.
  if (typeof f.out === "string") checkOutputFile(f.out, [dir, f.data, f.fewshot].filter((x): x is string => typeof x === "string"), "out", "gsm8k", isGsm8kItemsFile);
  const plan = planFromFlags(f);
  const ckpt = checkpointFromFlag(dir, "checkpoint", ["transformer", "talker"]);
  const tokenizer = await tokenizerFromConfig(ckpt.config.tokenizer, dir);
  if (!tokenizer) throw new UsageError(`${dir} was trained on token ids; few-shot prompts need a checkpoint trained on text`);
  const sampling = {
    temperature: floatFlag(f.temperature, "temperature", 0, { min: 0, max: 1000 }),
    topK: intFlag(f["top-k"], "top-k", tokenizer.size, 1, tokenizer.size),
    rng: new Rng(intFlag(f.seed, "seed", 0, 0, 2 ** 32 - 1)),
  };
  const samples = intFlag(f.samples, "samples", 3, 0, 1000);
  const engine = await createNodeEngine(engineOptionsFromFlags(f));
  let result: FewShotResult;
  try {
    const model = loadModel(engine, ckpt, dir, tokenizer, sampling);
    console.error(`${plan.task.name}, ${plan.shots}-shot: ${plan.problems.length} problems, ${model.name} (${dir})`);
    const every = Math.max(1, Math.round(plan.problems.length / 10));
    result = evaluateFewShot(model, tokenizer, plan.problems, {
      task: plan.task, shots: plan.shots, exemplarSource: plan.exemplars, maxSteps: plan.maxSteps,
      onItem: (_, done, total) => {
        if (done % every === 0 || done === total) console.error(`gsm8k: ${done}/${total} problems`);
      },
    });
  } finally {
    await engine.close();
  }
  // Printed first: the accuracies are shown even if --out cannot be written.
  printResult(result, samples, f.json === true);
  if (typeof f.out === "string") writeOutputFile(f.out, result.items.map((x) => JSON.stringify(x) + "\n").join(""), "out", "gsm8k", isGsm8kItemsFile);
}

/** Task, shots, problems and exemplars from the flags. */
function planFromFlags(f: FlagValues): Plan {
  const data = requireFlag(f, "data", "gsm8k");
  let task: Gsm8kTask;
  try {
    task = gsm8kTask((f.task as string | undefined) ?? "gsm8k");
  } catch (err) {
    throw new UsageError(`--task: ${(err as Error).message}`);
  }
  const shots = intFlag(f.shots as string | undefined, "shots", task.defaultShots, 0, task.maxShots ?? 64);
  if (task.name === "gsm8k_cot" && f.fewshot !== undefined) throw new UsageError("--fewshot applies only to --task gsm8k (gsm8k_cot has fixed exemplars)");
  let problems = readProblems(data);
  let exemplars: Gsm8kExample[] = [];
  if (task.name === "gsm8k") {
    exemplars = typeof f.fewshot === "string" ? readProblems(f.fewshot) : problems.slice(0, shots);
    if (f.fewshot === undefined) problems = problems.slice(shots);
    if (exemplars.length < shots) throw new UsageError(`${f.fewshot ?? data} has ${exemplars.length} problems, fewer than --shots ${shots}`);
  }
  const limit = intFlag(f.limit as string | undefined, "limit", problems.length, 1);
  problems = problems.slice(0, limit);
  if (problems.length === 0) throw new UsageError(`${data}: no problems left to evaluate after the ${shots} exemplars`);
  return { task, shots, problems, exemplars, maxSteps: intFlag(f["max-tokens"] as string | undefined, "max-tokens", 256, 1, 65536) };
}

function readProblems(path: string): Gsm8kExample[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseGsm8kJsonl(decodeUtf8Lines(bytes, path), path);
}

/** The coupled model of a "transformer" checkpoint, or the JEPA-Reasoner and Talker of a "talker" one. */
function loadModel(engine: Engine, ckpt: Checkpoint, dir: string, tokenizer: Tokenizer, sampling: Parameters<typeof coupledModel>[2]): FewShotModel {
  if (ckpt.config.kind === "transformer") {
    const lm = new TransformerLM(engine, transformerConfigFrom(ckpt.config.model, dir), new Rng(0));
    groupToParams(ckpt.model, lm.params, "", dir);
    refuseUnusedTensors(ckpt.model, [[lm.params, ""]], dir);
    return coupledModel(lm, tokenizer.endId, sampling);
  }
  const talkerConfig = ckpt.config.talker as TalkerConfig;
  try {
    if (typeof talkerConfig !== "object" || talkerConfig === null) throw new Error("no talker configuration");
    validateTalkerConfig(talkerConfig);
  } catch (err) {
    throw new Error(`${dir}/config.json: ${(err as Error).message}`);
  }
  const reasoner = new Reasoner(engine, transformerConfigFrom(ckpt.config.reasoner, dir), new Rng(0));
  groupToParams(ckpt.model, reasoner.lm.params, "reasoner.", dir);
  const ema = ckpt.ema?.get(`reasoner.${EMA_NAME}`);
  if (!ema) throw new Error(`${dir}: checkpoint has no reasoner.${EMA_NAME}`);
  reasoner.ema.view().set(ema.data);
  const talker = talkerConfig.kind === "dual" ? new DualTalker(engine, talkerConfig, new Rng(0)) : new MonoTalker(engine, talkerConfig, new Rng(0));
  groupToParams(ckpt.model, talker.params, "talker.", dir);
  refuseUnusedTensors(ckpt.model, [[reasoner.lm.params, "reasoner."], [talker.params, "talker."]], dir);
  return jepaModel(engine, reasoner, talker, tokenizer.endId, sampling);
}

function printResult(r: FewShotResult, samples: number, json: boolean): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const n = r.count;
  console.log(`${r.task}, ${r.shots}-shot, ${r.model}: ${n} problems in ${r.seconds.toFixed(1)} s (prompts ${Math.round(r.meanPromptTokens)} tokens on average, at most ${r.maxPromptTokens})`);
  console.log(`  strict-match      ${pct(r.strict).padStart(7)}  (${Math.round(r.strict * n)}/${n})`);
  console.log(`  flexible-extract  ${pct(r.flexible).padStart(7)}  (${Math.round(r.flexible * n)}/${n})`);
  for (const x of r.items.slice(0, samples)) {
    console.log(`--- gold ${x.gold}; strict ${x.strict ?? "[invalid]"} ${x.strictCorrect ? "✓" : "✗"}; flexible ${x.flexible ?? "[invalid]"} ${x.flexibleCorrect ? "✓" : "✗"}`);
    console.log(`Q: ${x.question}`);
    console.log(`A:${x.output}`);
  }
  if (json) {
    const round = (x: number) => Number(x.toFixed(4));
    console.log(JSON.stringify({ task: r.task, shots: r.shots, model: r.model, count: n, strict: round(r.strict), flexible: round(r.flexible), mean_prompt_tokens: round(r.meanPromptTokens), seconds: round(r.seconds) }));
  }
}
