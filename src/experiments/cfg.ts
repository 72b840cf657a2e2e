/**
 * The CFG robustness experiment end to end (paper §5.2): draw sentences from a levelled
 * grammar; pretrain one Transformer; train T, R (+ Dual-Talker) and C from it on identical
 * completion data; then score every model's completions of held-out prompts under input-token
 * noise (Table 7, Fig. 3), latent noise (Table 4), and by the Earley parser. Every stage saves
 * into outDir, so a killed run resumes where it stopped.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeFolder } from "../train/folders.js";
import { parameterCount } from "../model/config.js";
import type { TalkerConfig } from "../model/talker-config.js";
import type { CfgPreset } from "./cfg-config.js";
import { cfgSplits, cfgVocab, loadGrammar } from "./cfg-data.js";
import { evaluateAll, type CfgEval } from "./cfg-eval.js";
import { cfgConfigs, STAGE_DIRS, type EngineOpener } from "./cfg-models.js";
import { PrefixParsers } from "./cfg-score.js";
import { addTiming, loadTimings } from "./run-timings.js";
import { trainAll, type StageContext } from "./cfg-train.js";

/** What a run is asked to do. */
export interface CfgRunOptions {
  preset: CfgPreset;
  seed: number;
  outDir: string;
  log: (line: string) => void;
}

/** Everything the report is written from. */
export interface CfgResults {
  preset: CfgPreset;
  seed: number;
  grammar: { name: string; levels: number; terminals: number };
  data: { pretrainRows: number; train: number; val: number; test: number };
  parameters: { transformer: number; reasoner: number; talker: number };
  /** The last evaluation each training stage logged (eval_* of its metrics.jsonl). */
  training: Record<string, Record<string, number>>;
  eval: CfgEval;
  seconds: Record<string, number>;
}

/** Runs the whole experiment; each stage opens (and closes) its own engine with `open`. */
export async function runCfgExperiment(open: EngineOpener, o: CfgRunOptions): Promise<CfgResults> {
  const { preset: p, log } = o;
  makeFolder(o.outDir);
  const seconds = loadTimings(o.outDir);
  const t0 = performance.now();
  const grammar = loadGrammar(p.grammar);
  const vocab = cfgVocab(grammar);
  const splits = cfgSplits(grammar, vocab, p, o.seed);
  const parsers = new PrefixParsers(grammar, vocab, splits.test);
  addTiming(o.outDir, seconds, "data", (performance.now() - t0) / 1000);
  log(`cfg, preset ${p.name}: grammar "${grammar.name}" (${grammar.levels} levels, ${grammar.terminals.length} terminals); ${splits.pretrain.examples.length} pretraining sentences, ${splits.train.examples.length} train / ${splits.val.examples.length} val / ${splits.test.length} test completions of ${p.prefix} + ${p.answer} terminals`);
  const ctx: StageContext = { open, preset: p, seed: o.seed, outDir: o.outDir, splits, log, seconds };
  await trainAll(ctx);
  const evals = await evaluateAll(ctx, vocab, parsers);
  const c = cfgConfigs(p, vocab.tokens.length);
  return {
    preset: p, seed: o.seed,
    grammar: { name: grammar.name, levels: grammar.levels, terminals: grammar.terminals.length },
    data: { pretrainRows: splits.pretrain.examples.length, train: splits.train.examples.length, val: splits.val.examples.length, test: splits.test.length },
    parameters: { transformer: parameterCount(c.transformer), reasoner: parameterCount(c.reasoner), talker: talkerParameters(c.talker) },
    training: Object.fromEntries(Object.entries(STAGE_DIRS).map(([stage, dir]) => [stage, lastEval(join(o.outDir, dir))])),
    eval: evals, seconds,
  };
}

/** Parameters of a Dual-Talker: encoder blocks, its own embedding, decoder blocks with cross-attention, norms. */
function talkerParameters(c: TalkerConfig): number {
  const s = c.stack;
  const block = parameterCount({ ...s, layers: 1, vocab: 0 }) - s.dModel;
  const cross = s.dModel + 4 * s.attnDim * s.dModel;
  const inProj = c.latentDim !== s.dModel ? s.dModel * c.latentDim : 0;
  return inProj + c.encoderLayers * block + s.dModel + s.vocab * s.dModel + s.layers * (block + cross) + s.dModel;
}

/** The eval_* values of the last metrics line that has them. */
function lastEval(dir: string): Record<string, number> {
  const path = join(dir, "metrics.jsonl");
  if (!existsSync(path)) return {};
  const lines = readFileSync(path, "utf8").trim().split("\n").reverse();
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, number>;
    const evals = Object.entries(record).filter(([k]) => k.startsWith("eval_"));
    if (evals.length) return { step: record.step, ...Object.fromEntries(evals.map(([k, v]) => [k.slice(5), v])) };
  }
  return {};
}
