/** `jepa cfg`: the CFG robustness experiment (token noise, latent noise, grammaticality), with its report. */
import { availableParallelism } from "node:os";
import { createNodeEngine } from "../engine/node.js";
import { CFG_PRESETS, type CfgPreset } from "../experiments/cfg-config.js";
import { runCfgExperiment } from "../experiments/cfg.js";
import { headline, writeCfgReport } from "../experiments/cfg-report.js";
import type { PhaseSchedule } from "../experiments/tree-config.js";
import { preset } from "../model/presets.js";
import { join } from "node:path";
import { checkpointConfig } from "../train/checkpoint.js";
import { intFlag, parseFlags } from "./args.js";
import { claimOutputDir } from "./output-guard.js";
import { checkRunSettings, type FlagOf } from "./run-settings.js";

/** Help text of `jepa cfg`. */
export const CFG_HELP = `usage: jepa cfg [flags]

CFG robustness (the paper's §5.2): pretrain a Transformer on sentences of a levelled grammar;
from it train the coupled Transformer T, the JEPA-Reasoner R (first blocks, SST, Dual-Talker)
and a COCONUT-style model C on the same completion data; then measure multi-step completion
under 0-30 % input-token noise (Table 7, Fig. 3), exact match under latent noise (Table 4),
and grammaticality by an Earley parser. Writes report.md, SVG figures and metrics.json to --out.

flags:
  --preset NAME       cpu (default; under 2 hours on 2 cores), paper (Table 3 widths, see the
                      report), tiny (a smoke test of the pipeline in seconds)
  --seed N            seed of data, initialisation, order and noise (default 1)
  --out DIR           output directory (default runs/cfg-<preset>); a killed run resumes from it
  --max-steps N       cap every training stage at N steps (to time a preset)
  --test-samples N    held-out prompts to evaluate (default: the preset's)
  --threads N         threads (default: all cores, ${availableParallelism()} here)
  --memory MB         engine memory per stage (default: the preset's)
  --json              print the headline numbers as one JSON object on the last stdout line`;

/** The flags that change a cfg run's settings (any other difference is the preset's). */
const SETTING_FLAGS: FlagOf = [
  [/^seed$/, "--seed"], [/^preset\.sentences\.test$/, "--test-samples"], [/^preset\.(\w+\.(steps|warmup)|evalEvery)$/, "--max-steps"],
];

const s = { type: "string" } as const;
const FLAGS = {
  preset: s, seed: s, out: s, "max-steps": s, "test-samples": s, threads: s, memory: s, json: { type: "boolean" },
} as const;

/** Runs `jepa cfg`. */
export async function cfgCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "cfg");
  const base = preset(CFG_PRESETS, f.preset ?? "cpu", "cfg");
  const seed = intFlag(f.seed, "seed", 1, 0, 2 ** 31 - 1);
  const maxSteps = f["max-steps"] === undefined ? null : intFlag(f["max-steps"], "max-steps", 0, 1, 10_000_000);
  const tests = intFlag(f["test-samples"], "test-samples", base.sentences.test, 1, 1_000_000);
  const p = capped({ ...base, sentences: { ...base.sentences, test: tests } }, maxSteps);
  const threads = intFlag(f.threads, "threads", availableParallelism(), 1, 256);
  const memoryMB = intFlag(f.memory, "memory", p.memoryMB, 256, 4096);
  const outDir = f.out ?? `runs/cfg-${p.name}`;
  claimOutputDir(outDir, "cfg", [], (dir) => checkpointConfig(join(dir, "pretrain"))?.experiment === "cfg");
  checkRunSettings(outDir, { preset: p, seed }, SETTING_FLAGS);
  const results = await runCfgExperiment(() => createNodeEngine({ threads, memoryMB }), { preset: p, seed, outDir, log: (line) => console.error(line) });
  writeCfgReport(results, outDir, `jepa cfg ${argv.join(" ")}`.trim());
  const h = headline(results);
  const pct = (xs: unknown) => (xs as number[]).map((x) => x.toFixed(3)).join(" / ");
  console.log(`report: ${outDir}/report.md`);
  console.log(`accuracy at steps 1-4 without noise: T ${pct(h.t_accuracy_clean)}, R ${pct(h.r_accuracy_clean)}; normalised at 30 % noise: T ${pct(h.t_normalised_p30)}, R ${pct(h.r_normalised_p30)}`);
  console.log(`final-four exact match under latent noise σ = 0 / .05 / .10 / .15: R ${pct(h.r_exact_final4)}, C ${pct(h.c_exact_final4)}`);
  if (f.json) console.log(JSON.stringify(h));
}

/** The preset with every stage's steps (and warmup) capped at maxSteps. */
function capped(p: CfgPreset, maxSteps: number | null): CfgPreset {
  if (maxSteps === null) return p;
  const cap = <T extends PhaseSchedule>(s: T): T => ({ ...s, steps: Math.min(s.steps, maxSteps), warmup: Math.min(s.warmup, Math.max(1, Math.floor(maxSteps / 10))) });
  return { ...p, pretrain: cap(p.pretrain), baseline: cap(p.baseline), sst: cap(p.sst), talkerTraining: cap(p.talkerTraining), coconut: cap(p.coconut), evalEvery: Math.min(p.evalEvery, maxSteps) };
}
