/**
 * The evaluation stages: every model completes the same held-out prompts at every noise level,
 * and the completions are scored (cfg-score.ts). Each model is evaluated in a fresh engine and
 * its scores are saved (eval-<model>.json) with a key of what they depend on, so a resumed run
 * does not evaluate a model twice.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../engine/rng.js";
import { writeFileAtomic } from "../train/atomic.js";
import { LATENT_NOISE_LEVELS, TOKEN_NOISE_LEVELS } from "./cfg-config.js";
import type { CfgVocab, Completion } from "./cfg-data.js";
import { completeC, completeR, completeT } from "./cfg-generate.js";
import { cfgConfigs, loadCoconut, loadReasonerTalker, loadTransformer, STAGE_DIRS, withEngine } from "./cfg-models.js";
import { latentNoise, noiseRng, noisyPrompts } from "./cfg-noise.js";
import { scoreCompletions, type CompletionScores, type PrefixParsers } from "./cfg-score.js";
import { addTiming } from "./run-timings.js";
import type { StageContext } from "./cfg-train.js";

/** A model's scores: one entry per token-noise level, and per latent-noise level (R and C). */
export interface ModelEval {
  tokenNoise: CompletionScores[];
  latentNoise: CompletionScores[] | null;
}

/** The scores of T, R, C and of uniformly random terminals (the chance level). */
export interface CfgEval {
  T: ModelEval;
  R: ModelEval;
  C: ModelEval;
  chance: CompletionScores;
}

/** Evaluates the three trained models (and the chance level) on the test prompts. */
export async function evaluateAll(ctx: StageContext, vocab: CfgVocab, parsers: PrefixParsers): Promise<CfgEval> {
  const p = ctx.preset;
  const tests = ctx.splits.test;
  const c = cfgConfigs(p, vocab.tokens.length);
  const A = p.answer, L = p.coconutLatents, tail = A - L;
  const noisy = TOKEN_NOISE_LEVELS.map((level) => noisyPrompts(tests, level, vocab.terminals, noiseRng(ctx.seed, "token", level)));
  const clean = tests.map((t) => t.prompt);
  const score = (outputs: number[][], first: number) => scoreCompletions(tests, outputs, first, tail, parsers);

  const T = await cached(ctx, "T", "baseline", () => withEngine(ctx.open, (e) => {
    const lm = loadTransformer(e, c.transformer, ctx.outDir, "baseline");
    return { tokenNoise: levels(ctx, "T", noisy, (prompts) => score(completeT(e, lm, prompts, A, p.evalBatch), 0)), latentNoise: null };
  }));
  const R = await cached(ctx, "R", "talker", () => withEngine(ctx.open, (e) => {
    const { reasoner, talker } = loadReasonerTalker(e, c, ctx.outDir);
    return {
      tokenNoise: levels(ctx, "R", noisy, (prompts) => score(completeR(e, reasoner, talker, prompts, A, p.evalBatch), 0)),
      latentNoise: sigmas(ctx, "R", (noise) => score(completeR(e, reasoner, talker, clean, A, p.evalBatch, noise), 0)),
    };
  }));
  const C = await cached(ctx, "C", "coconut", () => withEngine(ctx.open, (e) => {
    const model = loadCoconut(e, c.transformer, ctx.outDir);
    return {
      tokenNoise: levels(ctx, "C", noisy, (prompts) => score(completeC(e, model, prompts, L, tail, p.evalBatch), L)),
      latentNoise: sigmas(ctx, "C", (noise) => score(completeC(e, model, clean, L, tail, p.evalBatch, noise), L)),
    };
  }));
  return { T, R, C, chance: score(randomCompletions(tests, vocab, new Rng(ctx.seed * 1009 + 7)), 0) };
}

/** Scores at every token-noise level, with a progress line each. */
function levels(ctx: StageContext, model: string, noisy: number[][][], run: (prompts: number[][]) => CompletionScores): CompletionScores[] {
  return TOKEN_NOISE_LEVELS.map((level, i) => {
    const s = run(noisy[i]);
    ctx.log(`eval ${model}: token noise ${level.toFixed(2)}: accuracy by step ${fmt(s.accuracy)}, tail exact ${s.exactTail.toFixed(3)}`);
    return s;
  });
}

/** Scores at every latent-noise level; each level has its own seeded noise stream. */
function sigmas(ctx: StageContext, model: string, run: (noise: ReturnType<typeof latentNoise>) => CompletionScores): CompletionScores[] {
  return LATENT_NOISE_LEVELS.map((sigma) => {
    const s = run(latentNoise(sigma, noiseRng(ctx.seed, "latent", sigma)));
    ctx.log(`eval ${model}: latent noise σ = ${sigma.toFixed(2)}·max: tail exact ${s.exactTail.toFixed(3)}, tail valid ${s.validTail.toFixed(3)}`);
    return s;
  });
}

/** Uniform random terminals for every answer position: what the metrics give by chance. */
function randomCompletions(tests: readonly Completion[], vocab: CfgVocab, rng: Rng): number[][] {
  return tests.map((t) => t.answer.map(() => vocab.terminals[rng.int(vocab.terminals.length)]));
}

/**
 * A model's scores from eval-<name>.json when they were computed for this run and these
 * weights (the key holds the hash of the stage's saved model), else computed and saved.
 */
async function cached(ctx: StageContext, name: string, stage: keyof typeof STAGE_DIRS, compute: () => Promise<ModelEval>): Promise<ModelEval> {
  const path = join(ctx.outDir, `eval-${name}.json`);
  const state = JSON.parse(readFileSync(join(ctx.outDir, STAGE_DIRS[stage], "state.json"), "utf8")) as { files?: Record<string, string> };
  const weights = state.files?.["model.safetensors"] ?? "";
  const { grammar, prefix, answer, coconutLatents, sentences } = ctx.preset;
  const key = JSON.stringify({ grammar, prefix, answer, coconutLatents, sentences, seed: ctx.seed, tokenNoise: TOKEN_NOISE_LEVELS, latentNoise: LATENT_NOISE_LEVELS, weights });
  if (existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, "utf8")) as { key: string; scores: ModelEval };
    if (saved.key === key) {
      ctx.log(`eval ${name}: reusing ${path}`);
      return saved.scores;
    }
  }
  const t0 = performance.now();
  const scores = await compute();
  addTiming(ctx.outDir, ctx.seconds, `eval_${name}`, (performance.now() - t0) / 1000);
  writeFileAtomic(path, JSON.stringify({ key, scores }) + "\n");
  return scores;
}

function fmt(values: ReadonlyArray<number | null>): string {
  return values.map((v) => (v === null ? "–" : v.toFixed(3))).join(" ");
}
