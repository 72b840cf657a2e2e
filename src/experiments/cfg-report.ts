/** The CFG report: Markdown beside the paper's Tables 4 and 7, SVG figures, metrics.json. */
import { join } from "node:path";
import { writeFileAtomic } from "../train/atomic.js";
import type { CfgResults } from "./cfg.js";
import { checkClaims } from "./cfg-checks.js";
import { LATENT_NOISE_LEVELS, TOKEN_NOISE_LEVELS } from "./cfg-config.js";
import { figure3, grammarFigure, latentNoiseFigure, normalised } from "./cfg-figures.js";
import { PAPER_TABLE4, paperRow } from "./cfg-paper.js";
import { COCONUT_RECIPE, definitions, findings, setup } from "./cfg-report-text.js";
import type { CompletionScores } from "./cfg-score.js";

const r4 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(4));
const r3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(3));
const r2 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2));

/** The headline numbers, as printed with --json and stored in metrics.json. */
export function headline(r: CfgResults): Record<string, number | string | number[]> {
  const ev = r.eval;
  const steps4 = (s: CompletionScores) => s.accuracy.slice(0, 4).map((a) => a ?? NaN);
  const last = TOKEN_NOISE_LEVELS.length - 1;
  const all8 = (s: CompletionScores) => s.valid[s.valid.length - 1] ?? NaN;
  return {
    preset: r.preset.name, seed: r.seed, test_prompts: r.data.test,
    t_accuracy_clean: steps4(ev.T.tokenNoise[0]), r_accuracy_clean: steps4(ev.R.tokenNoise[0]),
    t_normalised_p30: [0, 1, 2, 3].map((s) => normalised(ev.T.tokenNoise, s)[last]),
    r_normalised_p30: [0, 1, 2, 3].map((s) => normalised(ev.R.tokenNoise, s)[last]),
    r_exact_final4: (ev.R.latentNoise ?? []).map((l) => l.exactTail), c_exact_final4: (ev.C.latentNoise ?? []).map((l) => l.exactTail),
    r_valid8_clean: all8(ev.R.tokenNoise[0]), t_valid8_clean: all8(ev.T.tokenNoise[0]), c_valid_final4_clean: ev.C.tokenNoise[0].validTail,
    seconds: Math.round(Object.values(r.seconds).reduce((a, b) => a + b, 0)),
  };
}

/** Writes report.md, metrics.json and the figures into outDir. */
export function writeCfgReport(r: CfgResults, outDir: string, command: string): void {
  const figures = { "fig3-token-noise.svg": figure3(r.eval), "latent-noise.svg": latentNoiseFigure(r.eval), "grammaticality.svg": grammarFigure(r.eval) };
  for (const [name, svg] of Object.entries(figures)) writeFileAtomic(join(outDir, name), svg);
  writeFileAtomic(join(outDir, "metrics.json"), JSON.stringify({ headline: headline(r), ...r, claims: checkClaims(r.eval) }, null, 2) + "\n");
  writeFileAtomic(join(outDir, "report.md"), markdown(r, command));
}

function markdown(r: CfgResults, command: string): string {
  const total = Object.values(r.seconds).reduce((a, b) => a + b, 0);
  return [
    `# CFG robustness: JEPA-Reasoner R against a coupled Transformer T and a COCONUT-style C (preset \`${r.preset.name}\`)`,
    "",
    `Command: \`${command}\` (seed ${r.seed}). Total time ${(total / 60).toFixed(1)} min.`,
    "",
    ...setup(r),
    ...definitions(r),
    ...findings(r),
    ...agreement(r),
    ...table7(r),
    "![Fig. 3](fig3-token-noise.svg)",
    "",
    ...table4(r),
    "![Latent noise](latent-noise.svg)",
    "",
    ...grammaticality(r),
    "![Grammaticality](grammaticality.svg)",
    "",
    "## The COCONUT-style model C",
    "",
    COCONUT_RECIPE,
    "",
    ...schedule(r),
  ].join("\n");
}

function agreement(r: CfgResults): string[] {
  const se = Math.sqrt(0.25 / r.data.test);
  return [
    "## Where our run agrees with the paper",
    "",
    `Each claim is checked on the paper's numbers and on ours (${r.data.test} test prompts: a difference in accuracy below about ${(2 * se).toFixed(3)}, two standard errors at 50 %, is within sampling noise).`,
    "",
    "| claim | paper | ours | numbers |",
    "|---|---|---|---|",
    ...checkClaims(r.eval).map((c) => `| ${c.claim} | ${yesNo(c.paper)} | ${verdict(c.ours, c.paper)} | ${c.detail} |`),
    "",
    "A normalised accuracy only shows robustness where the model is well above guessing without noise; the Findings above say at which steps that fails here.",
    "",
  ];
}

function yesNo(holds: boolean | null): string {
  return holds === null ? "n/a" : holds ? "yes" : "no";
}

function verdict(ours: boolean | null, paper: boolean | null): string {
  if (ours === null) return "n/a (a number is undefined)";
  return `${yesNo(ours)} (${ours === paper ? "agrees" : "**differs**"})`;
}

function table7(r: CfgResults): string[] {
  const rows: string[] = [];
  TOKEN_NOISE_LEVELS.forEach((p, i) => {
    const paper = paperRow(p);
    for (const model of ["T", "R"] as const) {
      const ours = r.eval[model].tokenNoise;
      const cells = [0, 1, 2, 3].map((s) => {
        const mine = `${r4(ours[i].accuracy[s])} (${r2(normalised(ours, s)[i])})`;
        return paper ? `${mine} · ${r4(paper[model][s])} (${r2(paper[model][s] / paperRow(0)![model][s])})` : mine;
      });
      rows.push(`| ${p.toFixed(2)} | ${model} | ${cells.join(" | ")} |`);
    }
  });
  return [
    "## Multi-step completion under input-token noise (the paper's Table 7 and Fig. 3)",
    "",
    "Accuracy at each generation step, normalised accuracy in parentheses; each cell is **ours · paper**.",
    "",
    "| noise | model | step 1 | step 2 | step 3 | step 4 |",
    "|---|---|---|---|---|---|",
    ...rows,
    `| any | uniform guessing | ${[0, 1, 2, 3].map((s) => r4(r.eval.chance.accuracy[s])).join(" | ")} |`,
    "",
    `Steps 5–8 (ours only): T ${[4, 5, 6, 7].map((s) => r3(r.eval.T.tokenNoise[0].accuracy[s])).join(" / ")}, R ${[4, 5, 6, 7].map((s) => r3(r.eval.R.tokenNoise[0].accuracy[s])).join(" / ")} without noise.`,
    "",
  ];
}

function table4(r: CfgResults): string[] {
  const R = r.eval.R.latentNoise ?? [], C = r.eval.C.latentNoise ?? [];
  return [
    "## Robustness to latent noise (the paper's Table 4)",
    "",
    "Exact match of the final four tokens (answer positions 5–8). R rolls out 8 latents and its Dual-Talker reads 8 tokens; C runs 4 continuous steps and decodes 4 tokens. Noise N(0, σ²), σ = level × the largest |element| of the latent, is added to every latent at every step.",
    "",
    "| σ | R (ours) | C (ours) | R (paper) | C (paper) |",
    "|---|---|---|---|---|",
    ...LATENT_NOISE_LEVELS.map((s, i) => `| ${s.toFixed(2)}×max | ${r4(R[i]?.exactTail)} | ${r4(C[i]?.exactTail)} | ${r4(PAPER_TABLE4[i].R)} | ${r4(PAPER_TABLE4[i].C)} |`),
    "",
  ];
}

function grammaticality(r: CfgResults): string[] {
  const ev = r.eval;
  const all8 = (s: CompletionScores) => s.valid[s.valid.length - 1];
  const tokenRows = TOKEN_NOISE_LEVELS.map((p, i) =>
    `| token ${p.toFixed(2)} | ${r3(all8(ev.R.tokenNoise[i]))} | ${r3(all8(ev.T.tokenNoise[i]))} | ${r3(ev.R.tokenNoise[i].validTail)} | ${r3(ev.T.tokenNoise[i].validTail)} | ${r3(ev.C.tokenNoise[i].validTail)} |`);
  const latentRows = LATENT_NOISE_LEVELS.map((s, i) =>
    `| latent ${s.toFixed(2)}×max | ${r3(all8(ev.R.latentNoise![i]))} | – | ${r3(ev.R.latentNoise![i].validTail)} | – | ${r3(ev.C.latentNoise![i].validTail)} |`);
  return [
    "## Beyond the paper: are the completions grammatical?",
    "",
    "The Earley parser checks each completion against the clean prefix. *All 8*: the clean prefix followed by the model's 8 tokens is a prefix of some sentence. *Final 4*: some 4 terminals in place of answer positions 1–4 make the clean prefix, those and the model's tokens 5–8 a prefix of some sentence (C emits no tokens at positions 1–4, so this is the measure all three share).",
    "",
    "| noise | R, all 8 | T, all 8 | R, final 4 | T, final 4 | C, final 4 |",
    "|---|---|---|---|---|---|",
    ...tokenRows,
    ...latentRows,
    `| chance (uniform terminals) | ${r3(all8(ev.chance))} | ${r3(all8(ev.chance))} | ${r3(ev.chance.validTail)} | ${r3(ev.chance.validTail)} | ${r3(ev.chance.validTail)} |`,
    "",
    `Valid after each step without noise (steps 1–8): R ${ev.R.tokenNoise[0].valid.map(r3).join(" / ")}; T ${ev.T.tokenNoise[0].valid.map(r3).join(" / ")}.`,
    "",
  ];
}

function schedule(r: CfgResults): string[] {
  const p = r.preset;
  const row = (stage: string, what: string, steps: number, lr: number, batch: number) => {
    const ev = r.training[stage] ?? {};
    const shown = Object.entries(ev).filter(([k]) => k !== "step").map(([k, v]) => `${k} ${r3(v)}`).join(", ");
    return `| ${stage} | ${what} | ${steps} | ${lr} | ${batch} | ${shown || "–"} | ${(r.seconds[stage] ?? 0).toFixed(0)} |`;
  };
  const evalSeconds = ["T", "R", "C"].map((k) => `${k} ${(r.seconds[`eval_${k}`] ?? 0).toFixed(0)} s`).join(", ");
  return [
    "## Training schedule and run time",
    "",
    "| stage | what | steps | lr | batch | last evaluation (validation completions) | seconds |",
    "|---|---|---|---|---|---|---|",
    row("pretrain", "one Transformer, cross-entropy on whole sentences", p.pretrain.steps, p.pretrain.lr, p.pretrainBatch),
    row("baseline", "T: next-token training on the answers", p.baseline.steps, p.baseline.lr, p.batch),
    row("sst", `R: first ${p.reasonerBlocks} blocks, SST (k ${p.sst.k}, EMA ${p.sst.momentum}) on the answers`, p.sst.steps, p.sst.lr, p.batch),
    row("talker", `Dual-Talker on R's ${p.talkerTraining.latents} chains`, p.talkerTraining.steps, p.talkerTraining.lr, p.batch),
    row("coconut", `C: ${p.coconutLatents} continuous steps + ${p.answer - p.coconutLatents} tokens`, p.coconut.steps, p.coconut.lr, p.batch),
    "",
    `Evaluation: ${evalSeconds}; data and parsers ${(r.seconds.data ?? 0).toFixed(0)} s. Times add up every invocation of the run (a resumed run included). AdamW (β 0.9/0.95, weight decay 0.1 on matrices), warmup then cosine to lr/10, gradient clipping 1.0; every stage ran in its own engine and checkpointed into its sub-directory. \`metrics.json\` holds every number above; \`eval-T.json\`, \`eval-R.json\` and \`eval-C.json\` the scores per noise level.`,
    "",
  ];
}
