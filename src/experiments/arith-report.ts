/** The arithmetic comparison's report: Markdown beside the paper's Tables 5-6, SVG figures, metrics.json. */
import { join } from "node:path";
import { barChart } from "../report/svg.js";
import { writeFileAtomic } from "../train/atomic.js";
import type { ArithResults, ShotPair } from "./arith.js";

/** The paper's GSM8K figures (arXiv 2512.19171 v3, Tables 5 and 6), in %. */
export const PAPER_GSM8K = {
  table5: { transformer: { 5: 20.7, 8: 20.8 }, jepa: { 5: 39.4, 8: 51.9 } },
  table6: [
    { paradigm: "CoT", model: "Llama 3.2", size: "1B", acc: 44.4 },
    { paradigm: "CoT", model: "Qwen 3", size: "0.6B", acc: 42.5 },
    { paradigm: "Recurrent depth", model: "Huginn-0125", size: "3.5B", acc: 42.1 },
    { paradigm: "Decoupled latent", model: "JEPA-Reasoner", size: "0.9B", acc: 51.9 },
  ],
} as const;

/** Whether the paper's direction holds: R above T at each shot count, and R better at more shots. */
export function direction(pairs: readonly ShotPair[]): { reasonerAbove: boolean[]; reasonerImproves: boolean } {
  const first = pairs[0], last = pairs[pairs.length - 1];
  return { reasonerAbove: pairs.map((p) => p.reasoner.strict > p.coupled.strict), reasonerImproves: last.reasoner.strict > first.reasoner.strict };
}

/** The headline numbers, as printed with --json and stored in metrics.json. */
export function headline(r: ArithResults): Record<string, number | string | boolean | null> {
  const out: Record<string, number | string | boolean | null> = { preset: r.preset.name, seed: r.seed, test_problems: r.data.test };
  for (const p of r.arith) {
    out[`coupled_${p.shots}shot`] = p.coupled.strict;
    out[`reasoner_${p.shots}shot`] = p.reasoner.strict;
  }
  for (const p of r.gsm8k ?? []) {
    out[`gsm8k_coupled_${p.shots}shot`] = p.coupled.strict;
    out[`gsm8k_reasoner_${p.shots}shot`] = p.reasoner.strict;
  }
  const d = direction(r.arith);
  out.reasoner_above_coupled = d.reasonerAbove.every(Boolean);
  out.reasoner_improves_with_shots = d.reasonerImproves;
  for (const c of r.ablation.conditions) out[`ablation_${c.key}_token_acc`] = c.tokenAccuracy;
  out.seconds = Math.round(Object.values(r.seconds).reduce((a, b) => a + b, 0));
  return out;
}

/** Writes report.md, metrics.json and the figures into outDir. */
export function writeArithReport(r: ArithResults, outDir: string, command: string): void {
  writeFileAtomic(join(outDir, "accuracy.svg"), barChart({
    title: "Held-out arithmetic problems, strict-match accuracy", yLabel: "accuracy", yRange: [0, 1],
    categories: r.arith.map((p) => `${p.shots}-shot`),
    series: [{ name: "coupled Transformer T", values: r.arith.map((p) => p.coupled.strict) }, { name: "JEPA-Reasoner + Dual-Talker", values: r.arith.map((p) => p.reasoner.strict) }],
  }));
  writeFileAtomic(join(outDir, "ablation.svg"), barChart({
    title: "Talker ablation: token accuracy against the reference", yLabel: "token accuracy", yRange: [0, 1],
    categories: r.ablation.conditions.map((c) => c.key),
    series: [{ name: "free decoding", values: r.ablation.conditions.map((c) => c.tokenAccuracy) }, { name: "teacher-forced decoder", values: r.ablation.conditions.map((c) => c.nextTokenAccuracy) }],
  }));
  writeFileAtomic(join(outDir, "metrics.json"), JSON.stringify({ headline: headline(r), ...r }, null, 2) + "\n");
  writeFileAtomic(join(outDir, "report.md"), markdown(r, command));
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const yes = (b: boolean) => (b ? "**yes**" : "**no**");

/** The largest accuracy consistent (95 %) with k correct of n, by the Wilson interval. */
function upper95(k: number, n: number): number {
  const z = 1.96, p = k / n, d = 1 + (z * z) / n;
  return Math.min(1, (p + (z * z) / (2 * n) + z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d);
}

function markdown(r: ArithResults, command: string): string {
  const p = r.preset;
  const total = Object.values(r.seconds).reduce((a, b) => a + b, 0);
  return [
    `# Arithmetic reasoning: JEPA-Reasoner vs a coupled Transformer (preset \`${p.name}\`)`,
    "",
    `Command: \`${command}\` (seed ${r.seed}). Total time ${(total / 60).toFixed(1)} min (added up over every invocation of the run, a resumed run included).`,
    "",
    "The paper's GSM8K experiment (§6) compares a 0.9B JEPA-Reasoner + Talker with a 0.9B Transformer fine-tuned on identical data with identical hyperparameters. A 0.9B model cannot be trained on a 2-core CPU, so this run makes the same comparison at a size that fits, on generated word problems in GSM8K's format that such a model can learn, and also scores both models on GSM8K itself.",
    "",
    ...setup(r),
    "## Results beside Table 5",
    "",
    ...table5(r),
    "## GSM8K test",
    "",
    ...gsm8k(r),
    "## Talker ablation (Appendix C, made quantitative)",
    "",
    ...ablation(r),
    "## Figures",
    "",
    "![accuracy](accuracy.svg)",
    "",
    "![ablation](ablation.svg)",
    "",
    "## Training schedule and run time",
    "",
    "| phase | steps | lr | seconds |",
    "|---|---|---|---|",
    `| pretrain (packed runs of solved problems, loss on every position) | ${p.pretrain.steps} | ${p.pretrain.lr} | ${(r.seconds.pretrain ?? 0).toFixed(0)} |`,
    `| baseline T (cross-entropy on the answer) | ${p.finetune.steps} | ${p.finetune.lr} | ${(r.seconds.baseline ?? 0).toFixed(0)} |`,
    `| SST (answer positions, k ${p.sst.k}, EMA ${p.sst.momentum}), same batches and schedule as T | ${p.finetune.steps} | ${p.finetune.lr} | ${(r.seconds.sst ?? 0).toFixed(0)} |`,
    `| Dual-Talker (${p.talkerTraining.latents} latents) | ${p.talkerTraining.steps} | ${p.talkerTraining.lr} | ${(r.seconds.talker ?? 0).toFixed(0)} |`,
    `| evaluation and ablation | | | ${((r.seconds.eval_arith ?? 0) + (r.seconds.eval_gsm8k ?? 0) + (r.seconds.ablation ?? 0)).toFixed(0)} |`,
    "",
    `Batch ${p.batch} sequences, AdamW (β 0.9/0.95, weight decay 0.1 on matrices), warmup then cosine to lr/10, gradient clipping 1.0. Checkpoints of every phase are in the sub-directories (\`jepa gsm8k --checkpoint ${"<out>"}/baseline\` or \`/talker\` evaluates them again), the problems in \`data/\`, every evaluated problem's output in \`evals/\`, and every number above in \`metrics.json\`.`,
    "",
  ].join("\n");
}

function setup(r: ArithResults): string[] {
  const p = r.preset;
  return [
    "## Setup",
    "",
    `- **Data.** ${r.data.train} training and ${r.data.test} held-out problems from a seeded generator (no question occurs in both): one person's items changed by ${p.generator.minOps ?? 2} to ${p.generator.maxOps ?? 5} operations (+, −, ×, ÷), with a worked solution, one line per step, ending in \`#### N\`${p.generator.calculator === false ? " (without GSM8K's `<<a+b=c>>` annotations, which make every sequence a third longer)" : ""}. Each training sequence is a few-shot prompt in the \`gsm8k\` convention with 0 to ${p.maxShots} solved exemplars drawn from the training split, then the question's answer and the end token (${Math.round(r.data.meanTrainTokens)} tokens on average, at most ${r.data.seq + 1}).`,
    `- **Tokenizer.** ${r.tokenizer.kind === "bpe" ? `a byte-level BPE of ${r.tokenizer.size} tokens trained on the training problems (digits are single tokens; any text encodes, so GSM8K can be read)` : `${r.tokenizer.kind}, ${r.tokenizer.size} tokens`}; stored in every checkpoint.`,
    `- **Models.** One Transformer of ${(r.parameters.model / 1e6).toFixed(2)}M parameters (d ${p.reasoner.dModel}, ${p.reasoner.layers} blocks, ${p.reasoner.heads} heads, MLP ${p.reasoner.mlpDim}) is pretrained on runs of solved problems in the same format, packed to ${r.data.seq + 1} tokens (loss on every position). The coupled baseline **T** continues from it with cross-entropy on the answers; the **JEPA-Reasoner R** continues from it with SST on the same answer positions, the same batches in the same order and the same schedule (identical data and hyperparameters, as in the paper). R's Dual-Talker (${(r.parameters.talker / 1e6).toFixed(2)}M parameters, ${p.talker.encoderLayers} encoder + ${p.talker.layers} decoder blocks) is then trained on the frozen Reasoner's ${p.talkerTraining.latents === "teacher" ? "teacher-forced" : "rolled-out"} answer latents.`,
    `- **Evaluation.** The \`gsm8k\` convention of lm-evaluation-harness: \`Question: … Answer:\` prompts whose exemplars are the first n training problems, greedy decoding, the text cut at \`Question:\` or a blank line, and the answer read by the strict \`#### N\` pattern (the flexible last-number extraction is also listed). T generates until its end token; R reads the whole prompt, rolls out latents until one's nearest EMA target row is the end token (at most ${r.budget} latents, T gets the same ${r.budget} tokens), and the Dual-Talker decodes the finished chain from the prompt's last token.`,
    "",
  ];
}

function table5(r: ArithResults): string[] {
  const d = direction(r.arith);
  const shots = r.arith.map((p) => p.shots);
  const paper = (m: "transformer" | "jepa", s: number) => (s === 5 || s === 8 ? `${PAPER_GSM8K.table5[m][s]} %` : "–");
  return [
    `Accuracy on the ${r.data.test} held-out problems, strict \`#### N\` match (flexible extraction in parentheses). The paper's columns are GSM8K at 0.9B parameters.`,
    "",
    `| model | ${shots.map((s) => `${s}-shot`).join(" | ")} | paper ${shots.map((s) => `${s}-shot`).join(" / ")} |`,
    `|---|${shots.map(() => "---|").join("")}---|`,
    `| coupled Transformer T | ${r.arith.map((p) => `${pct(p.coupled.strict)} (${pct(p.coupled.flexible)})`).join(" | ")} | ${shots.map((s) => paper("transformer", s)).join(" / ")} |`,
    `| JEPA-Reasoner + Dual-Talker | ${r.arith.map((p) => `**${pct(p.reasoner.strict)}** (${pct(p.reasoner.flexible)})`).join(" | ")} | ${shots.map((s) => paper("jepa", s)).join(" / ")} |`,
    "",
    `Does the paper's direction hold here? R above T: ${r.arith.map((p, i) => `${p.shots}-shot ${yes(d.reasonerAbove[i])}`).join(", ")}. R improves from ${shots[0]} to ${shots[shots.length - 1]} shots: ${yes(d.reasonerImproves)} (${pct(r.arith[0].reasoner.strict)} → ${pct(r.arith[r.arith.length - 1].reasoner.strict)}; T ${pct(r.arith[0].coupled.strict)} → ${pct(r.arith[r.arith.length - 1].coupled.strict)}). With ${r.data.test} problems a difference of a few points is within noise (a 95 % interval is about ±${(100 * 1.96 * Math.sqrt(0.25 / r.data.test)).toFixed(0)} points at 50 %).`,
    "",
    `Mean latents per problem (R): ${r.arith.map((p) => `${p.reasoner.meanSteps.toFixed(1)} at ${p.shots}-shot`).join(", ")}; mean tokens (T): ${r.arith.map((p) => `${p.coupled.meanSteps.toFixed(1)}`).join(", ")}.`,
    "",
    ...samples(r.arith[r.arith.length - 1]),
  ];
}

function samples(pair: ShotPair): string[] {
  const first = (s: ShotPair["coupled"]) => s.samples[0];
  const c = first(pair.coupled), q = first(pair.reasoner);
  if (!c || !q) return [];
  return [
    `First held-out problem at ${pair.shots} shots (gold ${c.gold}):`,
    "",
    "```",
    `Q: ${c.question}`,
    `T:${c.output}`,
    `R:${q.output}`,
    "```",
    "",
  ];
}

function gsm8k(r: ArithResults): string[] {
  if (!r.gsm8k) return ["Not evaluated: pass `--gsm8k DIR` (a directory holding GSM8K's `train.jsonl` and `test.jsonl`).", ""];
  const n = r.gsm8k[0].coupled.count;
  const row = (name: string, key: "coupled" | "reasoner") => `| ${name} | ${r.gsm8k!.map((p) => `${pct(p[key].strict)} (${pct(p[key].flexible)})`).join(" | ")} |`;
  const worst = Math.max(...r.gsm8k.flatMap((p) => [p.coupled.strict, p.reasoner.strict]));
  const eight = r.gsm8k.find((p) => p.shots === 8);
  return [
    `The first ${n} problems of GSM8K test, in the same \`gsm8k\` convention (exemplars: the first problems of GSM8K train). Models this small, trained only on generated problems, are not expected to solve GSM8K: its vocabulary, numbers and reasoning are far outside what they saw, and its prompts average ${Math.round(r.gsm8k[r.gsm8k.length - 1].coupled.meanPromptTokens)} tokens at ${r.gsm8k[r.gsm8k.length - 1].shots} shots (the longest training sequence has ${r.data.seq + 1}). ${worst <= 0.05 ? "The numbers are near zero, as expected." : "The numbers are not near zero, which this scale does not lead one to expect: check the outputs in `evals/`."}`,
    "",
    `| model | ${r.gsm8k.map((p) => `${p.shots}-shot`).join(" | ")} |`,
    `|---|${r.gsm8k.map(() => "---|").join("")}`,
    row("coupled Transformer T", "coupled"),
    row("JEPA-Reasoner + Dual-Talker", "reasoner"),
    "",
    `With ${n} problems, ${Math.round(worst * n)} correct is consistent with a true accuracy of up to ${pct(upper95(Math.round(worst * n), n))} (95 %).`,
    "",
    "Beside Table 6 (8-shot GSM8K):",
    "",
    "| paradigm | model | size | 8-shot accuracy |",
    "|---|---|---|---|",
    ...PAPER_GSM8K.table6.map((x) => `| ${x.paradigm} | ${x.model} | ${x.size} | ${x.acc} % |`),
    ...(eight ? [
      `| Decoupled latent (ours) | JEPA-Reasoner + Dual-Talker | ${((r.parameters.model + r.parameters.talker) / 1e6).toFixed(1)}M | ${pct(eight.reasoner.strict)} |`,
      `| Coupled (ours) | Transformer T | ${(r.parameters.model / 1e6).toFixed(1)}M | ${pct(eight.coupled.strict)} |`,
    ] : []),
    "",
  ];
}

function mismatchLine(c: ArithResults["ablation"]["conditions"][number] | undefined): string[] {
  if (!c || c.sourceAccuracy === null) return [];
  const follows = c.sourceAccuracy > c.tokenAccuracy;
  return [
    `With another problem's latents, the free decoding matches *that* problem's answer at ${pct(c.sourceAccuracy)} of the positions after the prefix and this problem's at ${pct(c.tokenAccuracy)}: ${follows ? "the content follows the latents, not the prefix, as in the paper" : "the content does not follow the latents more than the prefix here"}.`,
    "",
  ];
}

function ablation(r: ArithResults): string[] {
  const a = r.ablation;
  return [
    `The trained Reasoner and Dual-Talker read ${a.problems} held-out problems (0-shot prompts). The decoder starts from the prompt's last token and the first ${a.prefix} answer tokens (the paper used 10), then decodes freely; the chain is the Reasoner's ${a.source === "teacher" ? "teacher-forced latents of the problem (its output for the whole text, as the paper's reconstruction setting)" : "rollout from the prompt"}. Token accuracy compares the free decoding with the reference answer position by position after the prefix; next-token accuracy gives the decoder the true previous tokens; "answers right" reads \`#### N\` from the decoded text.`,
    "",
    "| condition | token accuracy | next-token accuracy | answers right | paper (qualitative) |",
    "|---|---|---|---|---|",
    ...a.conditions.map((c) => `| ${c.name} | ${pct(c.tokenAccuracy)} | ${pct(c.nextTokenAccuracy)} | ${pct(c.answerCorrect)} | ${c.paper} |`),
    "",
    ...mismatchLine(a.conditions.find((c) => c.key === "mismatch")),
    "Gaussian latents are N(0, 1) vectors (norm about √d, far from the unit sphere the Talker was trained on), as the paper describes them.",
    "",
    "Sample outputs (the prefix, then what the Talker decoded):",
    "",
    "```",
    `reference ${JSON.stringify(a.conditions[0]?.samples[0]?.reference ?? "")}`,
    ...a.conditions.flatMap((c) => c.samples.slice(0, 1).map((s) => `${c.key.padEnd(10)}${JSON.stringify(s.output)}`)),
    ...a.conditions.flatMap((c) => c.samples.slice(0, 1).filter((s) => s.latentsOf).map((s) => `(mismatch read the latents of ${JSON.stringify(s.latentsOf)})`)),
    "```",
    "",
  ];
}
