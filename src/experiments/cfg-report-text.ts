/** The descriptive sections of the CFG report: setup, definitions, findings, and the COCONUT recipe. */
import type { CfgResults } from "./cfg.js";
import { TOKEN_NOISE_LEVELS } from "./cfg-config.js";
import { normalised } from "./cfg-figures.js";
import type { CompletionScores } from "./cfg-score.js";

/** How C is built and trained, as stated in the report (and in src/model/coconut.ts). */
export const COCONUT_RECIPE = [
  "C starts from the same pretrained Transformer as T and R and keeps its architecture. For a prompt and the 8 answer terminals, the first `L` answer tokens are replaced by `L` continuous steps: the last hidden state (the final RMSNorm output, the vector the tied LM head reads) is appended as the next input vector instead of a token embedding, `L` times; the output after the last step predicts answer token `L + 1`, and the remaining answer tokens follow as ordinary teacher-forced tokens.",
  "The loss is the cross-entropy of the tokens after the steps, backpropagated through every fed-back state. The steps run one position at a time against the keys and values of everything before them (with gradients), which computes exactly one causal pass over the concatenated inputs.",
  "Curriculum, simplified from COCONUT's multi-stage training: stage k replaces the first k answer tokens and trains on answer tokens k + 1 … 8; stages 1 … L − 1 share the first half of the schedule equally and the final stage L (L = 4: 4 continuous steps, then 4 tokens) trains for the second half. Unlike COCONUT there are no <bot>/<eot> marker tokens (every example has its steps at the same positions), no optimizer reset between stages, and a stage replaces answer tokens rather than chain-of-thought steps (a CFG completion has no separate reasoning text).",
  "At inference C runs its L continuous steps from the prompt (with a KV cache), then decodes greedily; under latent noise each fed-back state gets N(0, σ²) with σ = level × its largest |element|.",
].join("\n\n");

/** Grammar, task, data and model sizes. */
export function setup(r: CfgResults): string[] {
  const p = r.preset;
  const m = (n: number) => `${(n / 1e6).toFixed(2)}M`;
  const t = p.transformer;
  return [
    "## Setup",
    "",
    `Grammar \`data/cfg/${r.grammar.name}.json\`: ${r.grammar.levels} levels of rules, ${r.grammar.terminals} terminals. Vocabulary: \`<pad>\`, \`<bos>\`, \`<eos>\` and the terminals. Pretraining reads ${r.data.pretrainRows} sentences as \`<bos>\` sentence \`<eos>\` (cut at ${p.pretrainLength} tokens). The completion task: the prompt is \`<bos>\` and the first **${p.prefix} terminals** of a sentence, the answer its next **${p.answer} terminals**; every model after pretraining trains on the same ${r.data.train} completions of the pretraining sentences (${r.data.val} more for validation), and all are tested on the same ${r.data.test} held-out prompts, none equal to a training completion.`,
    "",
    `Models: the pretrained Transformer, T and C: ${m(r.parameters.transformer)} parameters (d ${t.dModel}, ${t.layers} blocks, attention ${t.attnDim} over ${t.heads} heads, MLP ${t.mlpDim}). R: its first ${p.reasonerBlocks} blocks (${m(r.parameters.reasoner)}) plus a Dual-Talker of ${p.talker.encoderLayers} encoder + ${p.talker.layers} decoder blocks (${m(r.parameters.talker)}). Paper (Table 3): T and C 24 blocks, R 16 + 4 + 4, width 960.`,
    "",
    `Preset \`${p.name}\`: ${p.note}`,
    "",
  ];
}

/** What the measured numbers mean. */
export function definitions(r: CfgResults): string[] {
  const p = r.preset;
  return [
    "## Definitions",
    "",
    `- **Generation step s** (1 … ${p.answer}) is answer position s after the prompt: T's s-th greedy token (each fed back), or the token R's Dual-Talker reads from R's s-th latent (R rolls out all ${p.answer} latents first, the Talker decodes greedily from the last prompt token). **Accuracy at step s**: the fraction of test prompts whose token at step s equals the clean sentence's terminal there (the paper's "correct symbols / required symbols", one symbol per step). **Normalised accuracy**: accuracy at noise p divided by the same model's accuracy at p = 0, at the same step.`,
    `- **Token noise p**: round(p · ${p.prefix}) distinct prompt terminals, chosen uniformly, each replaced by a different terminal drawn uniformly (\`<bos>\` is never touched); the truth stays the clean sentence's continuation. All models see the same corrupted prompts.`,
    "- **Latent noise σ**: N(0, σ²) added to every latent a model feeds back (R: all 8; C: its 4 continuous steps), σ = level × that latent's largest |element|, drawn afresh at every step; for a d-dimensional latent with largest element m and norm n, the noise has norm about σ·m·√d, i.e. σ·m·√d / n of the latent's. The prompt is clean.",
    "- **Grammatical**: see the last table; the parser always checks against the clean prefix, so a completion counts when it fits the sentence the noisy prompt came from.",
    "",
  ];
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(3));

/** Accuracy at step s above uniform guessing, as a fraction of the noise-free margin, at the last noise level. */
function keptAboveChance(levels: readonly CompletionScores[], s: number, chance: number): number {
  const clean = (levels[0].accuracy[s] ?? NaN) - chance;
  // A margin this small makes the ratio sampling noise.
  return clean < 0.05 ? NaN : ((levels[levels.length - 1].accuracy[s] ?? NaN) - chance) / clean;
}

/** Plain statements read off this run's numbers (each computed, none written by hand). */
export function findings(r: CfgResults): string[] {
  const ev = r.eval;
  const chance = 1 / r.grammar.terminals;
  const steps = [0, 1, 2, 3];
  const acc = (m: "T" | "R", s: number) => ev[m].tokenNoise[0].accuracy[s] ?? NaN;
  const nearFloor = steps.filter((s) => acc("R", s) - chance < 0.05 || acc("T", s) - chance < 0.05).map((s) => s + 1);
  const all8 = (x: CompletionScores) => x.valid[x.valid.length - 1] ?? NaN;
  const last = ev.T.tokenNoise.length - 1;
  const latent = (m: "R" | "C") => (ev[m].latentNoise ?? []).map((l) => l.exactTail);
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const se = Math.sqrt(0.25 / r.data.test);
  return [
    "## Findings",
    "",
    `- Without noise, accuracy at steps 1–4 is T ${steps.map((s) => f3(acc("T", s))).join(" / ")} and R ${steps.map((s) => f3(acc("R", s))).join(" / ")}; uniform guessing scores ${f3(chance)}.${nearFloor.length ? ` At step${nearFloor.length > 1 ? "s" : ""} ${nearFloor.join(", ")} a model is within 0.05 of guessing, so its normalised accuracy there mostly says it had little to lose.` : ""}`,
    `- At ${(100 * TOKEN_NOISE_LEVELS[last]).toFixed(0)} % token noise, normalised accuracy at steps 1–4 is T ${steps.map((s) => f3(normalised(ev.T.tokenNoise, s)[last])).join(" / ")} and R ${steps.map((s) => f3(normalised(ev.R.tokenNoise, s)[last])).join(" / ")}. Measured above guessing instead (the share of the noise-free margin over ${f3(chance)} that is kept; – where that margin is under 0.05): T ${steps.map((s) => f3(keptAboveChance(ev.T.tokenNoise, s, chance))).join(" / ")}, R ${steps.map((s) => f3(keptAboveChance(ev.R.tokenNoise, s, chance))).join(" / ")}.`,
    `- Grammaticality of the 8-token completions against the clean prefix: T ${f3(all8(ev.T.tokenNoise[0]))} → ${f3(all8(ev.T.tokenNoise[last]))} from 0 to 30 % noise, R ${f3(all8(ev.R.tokenNoise[0]))} → ${f3(all8(ev.R.tokenNoise[last]))} (uniform guessing ${f3(all8(ev.chance))}).`,
    `- Latent noise up to 0.15 × max moves final-four exact match by at most ${f3(spread(latent("R")))} for R and ${f3(spread(latent("C")))} for C (one standard error at these counts is at most ${f3(se)}); C's final four are exact ${f3(latent("C")[0])} of the time without noise, R's ${f3(latent("R")[0])}.`,
    "",
  ];
}
