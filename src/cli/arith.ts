/** `jepa arith`: the arithmetic-reasoning comparison and the Talker ablation end to end, with their report. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { createNodeEngine } from "../engine/node.js";
import { parseGsm8kJsonl } from "../data/gsm8k.js";
import { TOKENIZER_SPECS } from "../data/tokenizer.js";
import { ARITH_PRESETS } from "../experiments/arith-config.js";
import { runArithExperiment, type Gsm8kSets } from "../experiments/arith.js";
import { headline, writeArithReport } from "../experiments/arith-report.js";
import { preset } from "../model/presets.js";
import { intFlag, parseFlags } from "./args.js";
import { checkpointConfig } from "../train/checkpoint.js";
import { UsageError } from "./errors.js";
import { claimOutputDir } from "./output-guard.js";
import { checkRunSettings, type FlagOf } from "./run-settings.js";
import { checkTokenizerSpec } from "./train-flags.js";

/** Help text of `jepa arith`. */
export const ARITH_HELP = `usage: jepa arith [flags]

The paper's GSM8K comparison at CPU scale: generate multi-step arithmetic word problems in
GSM8K's format, train a tokenizer on them, pretrain a Transformer on few-shot prompts, fine-tune
it as the coupled baseline T and (same data, same hyperparameters) as the JEPA-Reasoner (SST),
train a Dual-Talker, evaluate both 5- and 8-shot on held-out problems (and on GSM8K test with
--gsm8k), run the Talker ablation of Appendix C, and write report.md, SVG figures and
metrics.json to --out.

flags:
  --preset NAME     cpu (default; hours on 2 cores) or tiny (a smoke test of the pipeline in seconds)
  --seed N          seed of data, tokenizer, initialisation and order (default 1)
  --out DIR         output directory (default runs/arith-<preset>); a killed run resumes from it
  --gsm8k DIR       also evaluate on GSM8K: DIR holds test.jsonl (evaluated) and train.jsonl (exemplars)
  --tokenizer SPEC  ${TOKENIZER_SPECS} (default: the preset's)
  --threads N       threads (default: all cores, ${availableParallelism()} here)
  --memory MB       engine memory to reserve (default 3072)
  --json            print the headline numbers as one JSON object on the last stdout line`;

/** The flags that change an arith run's settings (any other difference is the preset's). */
const SETTING_FLAGS: FlagOf = [[/^seed$/, "--seed"], [/^preset\.tokenizer$/, "--tokenizer"]];

const s = { type: "string" } as const;
const FLAGS = { preset: s, seed: s, out: s, gsm8k: s, tokenizer: s, threads: s, memory: s, json: { type: "boolean" } } as const;

/** Runs `jepa arith`. */
export async function arithCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "arith");
  const base = preset(ARITH_PRESETS, f.preset ?? "cpu", "arith");
  const tokenizer = f.tokenizer ?? base.tokenizer;
  checkTokenizerSpec(tokenizer);
  const p = { ...base, tokenizer };
  const seed = intFlag(f.seed, "seed", 1, 0, 2 ** 31 - 1);
  const gsm8k = f.gsm8k === undefined ? null : readGsm8kDir(f.gsm8k);
  const outDir = f.out ?? `runs/arith-${p.name}`;
  claimOutputDir(outDir, "arith", f.gsm8k === undefined ? [] : [f.gsm8k], (dir) => checkpointConfig(join(dir, "pretrain"))?.experiment === "arith");
  checkRunSettings(outDir, { preset: p, seed }, SETTING_FLAGS);
  const engine = await createNodeEngine({ threads: intFlag(f.threads, "threads", availableParallelism(), 1, 256), memoryMB: intFlag(f.memory, "memory", 3072, 256, 4096) });
  try {
    const results = await runArithExperiment(engine, { preset: p, seed, outDir, gsm8k, log: (line) => console.error(line) });
    writeArithReport(results, outDir, `jepa arith ${argv.join(" ")}`.trim());
    const h = headline(results);
    console.log(`report: ${outDir}/report.md`);
    const last = results.arith[results.arith.length - 1];
    console.log(`held-out ${last.shots}-shot accuracy: JEPA-Reasoner ${(100 * last.reasoner.strict).toFixed(1)} %, coupled Transformer ${(100 * last.coupled.strict).toFixed(1)} % on ${last.coupled.count} problems`);
    if (f.json) console.log(JSON.stringify(h));
  } finally {
    await engine.close();
  }
}

/** GSM8K test problems and the train problems whose first ones are the exemplars. */
function readGsm8kDir(dir: string): Gsm8kSets {
  const read = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new UsageError(`--gsm8k ${dir}: no ${name} there`);
    return parseGsm8kJsonl(readFileSync(path, "utf8"), path);
  };
  return { test: read("test.jsonl"), exemplars: read("train.jsonl") };
}
