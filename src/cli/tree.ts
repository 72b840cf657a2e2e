/** `jepa tree`: the tree-search experiment end to end, with its report. */
import { availableParallelism } from "node:os";
import { createNodeEngine } from "../engine/node.js";
import { TREE_PRESETS, type Restart } from "../experiments/tree-config.js";
import { runTreeExperiment } from "../experiments/tree.js";
import { headline, writeTreeReport } from "../experiments/tree-report.js";
import { preset } from "../model/presets.js";
import { join } from "node:path";
import { checkpointConfig } from "../train/checkpoint.js";
import { floatFlag, intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { claimOutputDir } from "./output-guard.js";
import { checkRunSettings, type FlagOf } from "./run-settings.js";
import { stackSizesFromFlags } from "./train-flags.js";

/** Help text of `jepa tree`. */
export const TREE_HELP = `usage: jepa tree [flags]

Tree-search routing (the paper's first experiment): pretrain the Reasoner, train the coupled
baseline, SST on route positions, train the Mono-Talker on route latents, evaluate both on
held-out trees, run the mixed-latent analysis, the PCA figure, the error-containment check
and the k sweep, score both on fresh trees (generalisation), and write report.md, SVG figures
and metrics.json to --out. \`jepa tree eval --help\`: scoring a finished run on other trees.

flags:
  --preset NAME     quick (default; about 16 min on 2 cores), cpu (4,000 pretraining steps and a
                    3,000-step warm restart; 100 % in 29 min; docs/tree-recipe.md), paper (Table 2
                    sizes), tiny (a smoke test of the pipeline in seconds)
  --seed N          seed of data, initialisation and order (default 1)
  --out DIR         output directory (default runs/tree-<preset>); a killed run resumes from it
  --depth N         tree depth (default 4: 15 nodes)
  --shuffle-edges   list edges in random order (harder than the paper's level order)
  --qk-norm KIND    the Reasoner's QK-Norm: paper (RMS per head, the preset default), temp
                    (a learnable per-head temperature, logits g·cos(q, k)) or none
  --qk-temp X       initial temperature g of --qk-norm temp (default 10)
  --d-model N, --layers N, --heads N, --attn-dim N, --mlp-dim N
                    the Reasoner's sizes (default: the preset's; head dimension = attn-dim / heads)
  --pretrain-loss L all (the paper's: every position) or route (the route positions only)
  --pretrain-steps N
                    steps of pretraining's first cosine cycle (default: the preset's)
  --pretrain-restarts LIST
                    warm restarts after it: none, or STEPS@LR[,STEPS@LR...] (cpu: 3000@1e-3),
                    each a new warmup and cosine to LR/10 (see docs/tree-recipe.md, H13)
  --route-dropout P pretraining hides each teacher-forced branch input with probability P
                    (default 0, the paper's teacher forcing; see docs/tree-recipe.md)
  --no-k-sweep      skip the k = 1…6 sweep
  --threads N       threads (default: all cores, ${availableParallelism()} here)
  --memory MB       engine memory to reserve (default 3072)
  --json            print the headline numbers as one JSON object on the last stdout line`;

/** The flags that change a tree run's settings (any other difference is the preset's). */
const SETTING_FLAGS: FlagOf = [
  [/^seed$/, "--seed"], [/^preset\.(depth|alphabetSize)$/, "--depth"], [/^preset\.shuffleEdges$/, "--shuffle-edges"],
  [/^preset\.routeDropout$/, "--route-dropout"], [/^preset\.reasoner\.qkNorm$/, "--qk-norm"], [/^preset\.reasoner\.qkTemp$/, "--qk-temp"],
  [/^preset\.reasoner\.dModel$/, "--d-model"], [/^preset\.reasoner\.layers$/, "--layers"], [/^preset\.reasoner\.heads$/, "--heads"],
  [/^preset\.reasoner\.attnDim$/, "--attn-dim"], [/^preset\.reasoner\.mlpDim$/, "--mlp-dim"], [/^preset\.pretrainLoss$/, "--pretrain-loss"],
  [/^preset\.pretrain\.steps$/, "--pretrain-steps"], [/^preset\.pretrain\.restarts/, "--pretrain-restarts"],
];

const FLAGS = {
  preset: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  depth: { type: "string" },
  "shuffle-edges": { type: "boolean" },
  "qk-norm": { type: "string" },
  "qk-temp": { type: "string" },
  "route-dropout": { type: "string" },
  "d-model": { type: "string" },
  layers: { type: "string" },
  heads: { type: "string" },
  "attn-dim": { type: "string" },
  "mlp-dim": { type: "string" },
  "pretrain-loss": { type: "string" },
  "pretrain-steps": { type: "string" },
  "pretrain-restarts": { type: "string" },
  "no-k-sweep": { type: "boolean" },
  threads: { type: "string" },
  memory: { type: "string" },
  json: { type: "boolean" },
} as const;

/** Runs `jepa tree`. */
export async function treeCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "tree");
  const base = preset(TREE_PRESETS, f.preset ?? "quick", "tree");
  const depth = intFlag(f.depth, "depth", base.depth, 2, 4);
  const reasoner = stackSizesFromFlags(f, base.reasoner);
  const pretrainLoss = pretrainLossFromFlag(f["pretrain-loss"], base.pretrainLoss);
  const routeDropout = floatFlag(f["route-dropout"], "route-dropout", base.routeDropout, { min: 0, max: 1, maxExclusive: true });
  const pretrain = {
    ...base.pretrain, steps: intFlag(f["pretrain-steps"], "pretrain-steps", base.pretrain.steps, 1, 10_000_000),
    restarts: restartsFromFlag(f["pretrain-restarts"], base.pretrain.restarts ?? [], base.pretrain.warmup),
  };
  const p = { ...base, depth, reasoner, routeDropout, pretrainLoss, pretrain, shuffleEdges: f["shuffle-edges"] ?? base.shuffleEdges, alphabetSize: Math.max(base.alphabetSize, 2 ** depth - 1) };
  const seed = intFlag(f.seed, "seed", 1, 0, 2 ** 31 - 1);
  const outDir = f.out ?? `runs/tree-${p.name}`;
  // A run from before folders were marked is recognised by its first stage's checkpoint, of this experiment.
  claimOutputDir(outDir, "tree", [], (dir) => checkpointConfig(join(dir, "pretrain"))?.experiment === "tree");
  checkRunSettings(outDir, { preset: p, seed }, SETTING_FLAGS);
  const engine = await createNodeEngine({ threads: intFlag(f.threads, "threads", availableParallelism(), 1, 256), memoryMB: intFlag(f.memory, "memory", 3072, 256, 4096) });
  try {
    const results = runTreeExperiment(engine, { preset: p, seed, outDir, kSweep: !f["no-k-sweep"], log: (line) => console.error(line) });
    writeTreeReport(results, outDir, `jepa tree ${argv.join(" ")}`.trim());
    const h = headline(results);
    console.log(`report: ${outDir}/report.md`);
    console.log(`exact match: JEPA-Reasoner ${(100 * results.reasoner.exact).toFixed(2)} %, coupled Transformer ${(100 * results.coupled.exact).toFixed(2)} % on ${results.reasoner.count} held-out trees`);
    if (f.json) console.log(JSON.stringify(h));
  } finally {
    await engine.close();
  }
}

/** --pretrain-loss: "all" positions or the "route" only (the preset's when absent). */
function pretrainLossFromFlag(value: string | undefined, base: "all" | "answer"): "all" | "answer" {
  if (value === undefined) return base;
  if (value === "all") return "all";
  if (value === "route") return "answer";
  throw new UsageError(`--pretrain-loss must be all or route, got '${value}'`);
}

/** --pretrain-restarts: "none" or STEPS@LR[,STEPS@LR...] (the preset's when absent); warmup as the first cycle's. */
function restartsFromFlag(value: string | undefined, base: Restart[], warmup: number): Restart[] {
  if (value === undefined) return base;
  if (value === "none") return [];
  return value.split(",").map((part) => {
    const m = /^(\d+)@([0-9.]+(?:e-?\d+)?)$/i.exec(part.trim());
    const steps = m ? Number(m[1]) : NaN, lr = m ? Number(m[2]) : NaN;
    if (!(steps >= 1 && steps <= 10_000_000 && lr > 0 && lr < 1)) {
      throw new UsageError(`--pretrain-restarts must be none or STEPS@LR[,STEPS@LR...] with 1 <= STEPS and 0 < LR < 1, got '${part}'`);
    }
    return { steps, lr, warmup };
  });
}
