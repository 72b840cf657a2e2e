/** The tree-search report: Markdown beside the paper's numbers, SVG figures and metrics.json. */
import { join } from "node:path";
import { barChart, lineChart } from "../report/svg.js";
import { writeFileAtomic } from "../train/atomic.js";
import type { TransformerConfig } from "../model/config.js";
import { DEFAULT_QK_TEMP } from "../model/qk-norm.js";
import type { TreeResults } from "./tree.js";
import { byTargetEdgeText } from "./tree-eval.js";

/** The paper's tree-search figures (arXiv 2512.19171 v3, §5.1). */
export const PAPER_TREE = { exact: 0.9987, planeTopPercent: 1.72, correctMajor: 0.9989, pc1: 0.087, pc2: 0.079 };

/** The headline numbers, as printed with --json and stored in metrics.json. */
export function headline(r: TreeResults): Record<string, number | string | boolean> {
  const m = r.mixed[0].overall;
  const g = r.generalisation;
  return {
    preset: r.preset.name, seed: r.seed,
    reasoner_exact: r.reasoner.exact, coupled_exact: r.coupled.exact, test_trees: r.reasoner.count,
    fresh_reasoner_exact: g.fresh.reasoner.exact, fresh_coupled_exact: g.fresh.coupled?.exact ?? NaN,
    shuffled_reasoner_exact: g.shuffled.reasoner.exact, shuffled_coupled_exact: g.shuffled.coupled?.exact ?? NaN,
    plane_rank_percent: 100 * m.meanPercentileRank, correct_major: m.correctMajorRate,
    containment_identical: r.containment.identicalChains === r.containment.trees && r.containment.identicalAnalysis,
    seconds: Math.round(Object.values(r.seconds).reduce((a, b) => a + b, 0)),
  };
}

/** Writes report.md, metrics.json and the figures into outDir. */
export function writeTreeReport(r: TreeResults, outDir: string, command: string): void {
  const figures = [...r.figures];
  writeFileAtomic(join(outDir, "per-position.svg"), barChart({
    title: "Route accuracy by position (held-out trees)", yLabel: "accuracy", yRange: [0, 1],
    categories: r.reasoner.perPosition.map((_, i) => `route[${i}]`),
    series: [{ name: "JEPA-Reasoner + Mono-Talker", values: r.reasoner.perPosition }, { name: "coupled Transformer T", values: r.coupled.perPosition }],
  }));
  figures.push("per-position.svg");
  if (r.kSweep) {
    writeFileAtomic(join(outDir, "k-sweep.svg"), lineChart({
      title: "Correct major contributor vs SST steps, by loss scale k", xLabel: "SST step", yLabel: "correct-major rate", yRange: [0, 1],
      series: r.kSweep.curves.map((c) => ({ name: `k = ${c.k}`, points: c.points })),
    }));
    figures.push("k-sweep.svg");
  }
  writeFileAtomic(join(outDir, "metrics.json"), JSON.stringify({ headline: headline(r), ...r, preset: r.preset }, null, 2) + "\n");
  writeFileAtomic(join(outDir, "report.md"), markdown(r, command, figures));
}

const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)} %`;

function markdown(r: TreeResults, command: string, figures: string[]): string {
  const p = r.preset;
  const total = Object.values(r.seconds).reduce((a, b) => a + b, 0);
  const m = r.mixed[0].overall;
  const c = r.containment;
  const lines = [
    `# Tree search: JEPA-Reasoner vs a coupled Transformer (preset \`${p.name}\`)`,
    "",
    `Command: \`${command}\` (seed ${r.seed}). Total time ${(total / 60).toFixed(1)} min (added up over every invocation of the run, a resumed run included).`,
    "",
    `Task: route from the root to a target leaf of a random binary tree of depth ${p.depth} (${2 ** p.depth - 1} nodes named by a random permutation of ${p.alphabetSize} letters, edges in ${p.shuffleEdges ? "shuffled" : "level"} order), in the paper's format. ${p.trees.train} training trees; ${r.reasoner.count} held-out test trees, none of which occurs in training.`,
    `Models: Reasoner ${(r.parameters.reasoner / 1e6).toFixed(2)}M parameters (d ${p.reasoner.dModel}, ${p.reasoner.layers} blocks, attention ${p.reasoner.attnDim} over ${p.reasoner.heads} heads, MLP ${p.reasoner.mlpDim}, QK-Norm ${qkNormText(p.reasoner)}); Mono-Talker ${(r.parameters.talker / 1e6).toFixed(2)}M (${p.talker.layers} blocks, bidirectional over the route latents). The coupled baseline T is the same pretrained Transformer trained further with next-token prediction on the same route positions.`,
    "",
    "## Results beside the paper",
    "",
    "| | ours | paper (42M, Table 2 sizes) |",
    "|---|---|---|",
    `| exact-match routes, JEPA-Reasoner + Mono-Talker | **${pct(r.reasoner.exact)}** | 99.87 % |`,
    `| exact-match routes, coupled Transformer T | ${pct(r.coupled.exact)} | not reported |`,
    `| sibling plane's mean percentile rank among ${r.mixed[0].population} | ${(100 * m.meanPercentileRank).toFixed(2)} % (median ${(100 * m.medianPercentileRank).toFixed(2)} %) | top 1.72 % |`,
    `| correct sibling is the major contributor (α > β) | ${pct(m.correctMajorRate)} | 99.89 % |`,
    `| PCA of letter embeddings: PC1, PC2 | ${pct(r.pcaExplained[0], 1)}, ${pct(r.pcaExplained[1], 1)} | 8.7 %, 7.9 % |`,
    "",
    `Per route position (JEPA-Reasoner / T): ${r.reasoner.perPosition.map((a, i) => `route[${i}] ${pct(a, 1)} / ${pct(r.coupled.perPosition[i], 1)}`).join("; ")}.`,
    "",
    `Exact match by the index of the target's edge among the edges as written (JEPA-Reasoner / T): ${byTargetEdgeText(r.reasoner, r.coupled)}. A model that follows the edges scores every index alike; one that routes by position fails some and not others.`,
    "",
    ...generalisationSection(r),
    "## Mixed latents",
    "",
    "Each branching latent (the chain latent that predicts route[i], i ≥ 1) is fitted by least squares on the plane spanned by the embeddings of the current node's two children: r ≈ α·E[correct] + β·E[other]. The plane is ranked by how much of ‖r‖² it explains among all pairs of the candidate tokens (ties count half; 0 % is the best plane).",
    "Main choice: the **EMA target embedding with L2-normalised rows**. SST trains each latent toward the EMA row of the next token with a cosine loss, so that table is the space the latents were trained to live in; rows are normalised because the latents lie on the unit sphere and the cosine ignores length. The online embedding is shown for comparison.",
    "",
    "| embedding | candidate pairs | mean rank | correct major | mean α | mean β | explained by the plane |",
    "|---|---|---|---|---|---|---|",
    ...r.mixed.map((x) => `| ${x.embedding} | ${x.population} | ${(100 * x.overall.meanPercentileRank).toFixed(2)} % | ${pct(x.overall.correctMajorRate)} | ${x.overall.meanAlpha.toFixed(3)} | ${x.overall.meanBeta.toFixed(3)} | ${pct(x.overall.meanExplained, 1)} |`),
    "",
    `By branching step (EMA, all tokens): ${r.mixed[0].perStep.map((s, i) => `step ${i + 1}: rank ${(100 * s.meanPercentileRank).toFixed(2)} %, correct major ${pct(s.correctMajorRate, 1)}`).join("; ")}.`,
    "",
    "## Error containment on this task",
    "",
    `For ${c.trees} test trees, every route letter the Talker produced (${c.corruptedTokens} tokens) was replaced by a random letter and the chains were rolled out again: **${c.identicalChains} of ${c.trees} chains are bit-identical**, and the mixed-latent analysis is ${c.identicalAnalysis ? "**identical**" : "**different**"} before and after. The rollout takes only the prompt, so this checks that the chain is reproducible bit for bit whatever the Talker emitted; that nothing the Talker emits can reach the Reasoner holds by construction (it has no input for those tokens), and the coupled model below is the contrast.`,
    `For contrast, the coupled Transformer was forced to emit the wrong child of the root and left to continue: in ${pct(c.coupledFollowsError, 1)} of the continuations its next letter is a child of the forced one (its own error carried into the next decision), in ${pct(c.coupledReturnsToRoute, 1)} it is the correct route's letter (a jump back that ignores its error), and ${pct(c.coupledReachesTarget, 1)} end with the target's letter, which the prompt names, so a model can copy it even at the end of a path that no longer leads there.${c.coupledReturnsToRoute > c.coupledFollowsError ? " Here T mostly ignores its own error: on this task its routing does not condition on its previous letter." : ""}`,
    "",
    "## Figures",
    "",
    ...figures.map((f) => `![${f}](${f})`),
    "",
    r.kSweep ? `k sweep: SST from the same pretrained weights with k = ${p.kSweep.ks.join(", ")} for ${p.kSweep.steps} steps each; the correct-major rate of free-running branching latents on ${p.kSweep.evalTrees} validation trees every ${p.kSweep.evalEvery} steps. Final rates: ${r.kSweep.curves.map((cv) => `k=${cv.k}: ${pct(cv.points[cv.points.length - 1][1], 1)}`).join(", ")}.` : "The k sweep was skipped (--no-k-sweep).",
    "",
    "## Training schedule and run time",
    "",
    "| phase | steps | lr | seconds |",
    "|---|---|---|---|",
    `| pretrain (loss on ${p.pretrainLoss === "all" ? "all positions, as in the paper" : "the route positions"}${p.routeDropout > 0 ? `, route dropout ${p.routeDropout}` : ""}) | ${[p.pretrain.steps, ...(p.pretrain.restarts ?? []).map((x) => x.steps)].join(" + ")} | ${[p.pretrain.lr, ...(p.pretrain.restarts ?? []).map((x) => x.lr)].join(", then ")} | ${(r.seconds.pretrain ?? 0).toFixed(0)} |`,
    `| baseline T (loss on route positions) | ${p.baseline.steps} | ${p.baseline.lr} | ${(r.seconds.baseline ?? 0).toFixed(0)} |`,
    `| SST (route positions, k ${p.sst.k}, EMA ${p.sst.momentum}) | ${p.sst.steps} | ${p.sst.lr} | ${(r.seconds.sst ?? 0).toFixed(0)} |`,
    `| Mono-Talker (${p.talkerTraining.latents} latents) | ${p.talkerTraining.steps} | ${p.talkerTraining.lr} | ${(r.seconds.talker ?? 0).toFixed(0)} |`,
    `| evaluation, analyses${r.kSweep ? ", k sweep" : ""} | | | ${(total - ["pretrain", "baseline", "sst", "talker"].reduce((s, k) => s + (r.seconds[k] ?? 0), 0)).toFixed(0)} |`,
    "",
    `Batch ${p.batch} sequences, AdamW (β 0.9/0.95, weight decay 0.1 on matrices), warmup then cosine to lr/10${p.pretrain.restarts?.length ? " (pretraining: then each warm restart, a new warmup and cosine from its own lr)" : ""}, gradient clipping 1.0. Checkpoints of every phase are in the sub-directories; \`metrics.json\` holds every number above.`,
    "",
  ];
  return lines.join("\n");
}

/** The Generalisation section: both models on fresh trees, beside the held-out split. */
function generalisationSection(r: TreeResults): string[] {
  const g = r.generalisation;
  const row = (name: string, s: { reasoner: { exact: number; perPosition: number[] }; coupled: { exact: number; perPosition: number[] } | null }) =>
    `| ${name} | **${pct(s.reasoner.exact)}** | ${s.coupled ? pct(s.coupled.exact) : "–"} | ${s.reasoner.perPosition.map((a) => pct(a, 1)).join(", ")} |`;
  return [
    "## Generalisation",
    "",
    `The same checkpoints on ${g.count} fresh trees each, drawn from a seed stream no split uses (seed ${g.seed}) and excluding every problem of the training, validation and test splits in any edge order. \`jepa tree eval --run DIR --count ${g.count} --seed ${g.seed}\` (with \`--shuffle-edges\` for the rows in random edge order) scores the same trees again.`,
    "",
    "| trees | exact match, JEPA-Reasoner + Mono-Talker | exact match, T | per position, JEPA-Reasoner |",
    "|---|---|---|---|",
    row(`held-out test split (${r.reasoner.count})`, { reasoner: r.reasoner, coupled: r.coupled }),
    row(`fresh, edges in random order (${g.count})`, g.shuffled),
    row(`fresh, edges in ${r.preset.shuffleEdges ? "random" : "level"} order as in training (${g.count})`, g.fresh),
    "",
  ];
}

/** How the Reasoner's report names its QK-Norm variant. */
function qkNormText(c: Pick<TransformerConfig, "qkNorm" | "qkTemp">): string {
  const kind = c.qkNorm ?? "paper";
  if (kind === "temp") return `with a learnable per-head temperature from g = ${c.qkTemp ?? DEFAULT_QK_TEMP} (\`--qk-norm temp\`)`;
  return kind === "paper" ? "as in the paper (RMS per head, 1/√dh)" : "off (`--qk-norm none`)";
}
