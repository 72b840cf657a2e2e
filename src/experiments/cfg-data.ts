/**
 * Data of the CFG experiment: a vocabulary of three special tokens plus the grammar's
 * terminals; pretraining rows (whole sentences); and completion examples, a prompt of
 * <bos> and the first `prefix` terminals of a sentence followed by the next `answer` terminals.
 * Every model after pretraining trains on the same completion examples.
 */
import { readFileSync } from "node:fs";
import { Rng } from "../engine/rng.js";
import { grammarFromJson, sampleSequence, type Grammar, type GrammarPresetName } from "../data/cfg-grammar.js";
import type { Dataset } from "../data/dataset.js";
import type { CfgPreset } from "./cfg-config.js";

/** Padding id; sentence start and end follow, then the terminals. */
export const CFG_PAD = 0;
/** Sentence start: the first token of every prompt and pretraining row. */
export const CFG_BOS = 1;
/** Sentence end: closes every pretraining row that is not cut. */
export const CFG_EOS = 2;
const SPECIALS = ["<pad>", "<bos>", "<eos>"];

/** Token strings by id, and the ids of the terminals. */
export interface CfgVocab {
  tokens: string[];
  terminals: number[];
}

/** The vocabulary of a grammar: specials, then its terminals in order. */
export function cfgVocab(g: Grammar): CfgVocab {
  return { tokens: [...SPECIALS, ...g.terminals], terminals: g.terminals.map((_, i) => SPECIALS.length + i) };
}

/** The committed grammar data/cfg/<name>.json. */
export function loadGrammar(name: GrammarPresetName): Grammar {
  const url = new URL(`../../../data/cfg/${name}.json`, import.meta.url);
  return grammarFromJson(JSON.parse(readFileSync(url, "utf8")));
}

/** One completion task: prompt ids (<bos> + prefix terminals) and the true next terminals. */
export interface Completion {
  prompt: number[];
  answer: number[];
}

/** Every split of a run. */
export interface CfgSplits {
  /** Whole training sentences, loss on every position. */
  pretrain: Dataset;
  /** Completion examples of the same training sentences (answer = the loss region). */
  train: Dataset;
  val: Dataset;
  /** Held-out completions, none equal to a training one. */
  test: Completion[];
}

/** Draws the splits from the grammar; each split has its own seeded stream. */
export function cfgSplits(g: Grammar, vocab: CfgVocab, p: CfgPreset, seed: number): CfgSplits {
  const ids = (s: string[]) => s.map((t) => vocab.terminals[g.terminals.indexOf(t)]);
  // Only the start of a sentence is ever read: keep no more of it (paper-size sentences are long).
  const keep = Math.max(p.pretrainLength, p.prefix + p.answer);
  const trainSentences = sentences(g, p.sentences.train, new Rng(seed * 31 + 1)).map((s) => ids(s.slice(0, keep)));
  const pretrain = trainSentences.map((s) => ({ tokens: [CFG_BOS, ...s, CFG_EOS].slice(0, p.pretrainLength), lossStart: 1 }));
  const train = trainSentences.filter((s) => s.length >= p.prefix + p.answer).map((s) => completion(s, p));
  const seen = new Set(train.map(key));
  const fresh = (n: number, rng: Rng) => completions(g, ids, p, n, rng, seen);
  const val = fresh(p.sentences.val, new Rng(seed * 31 + 2));
  for (const c of val) seen.add(key(c));
  const test = fresh(p.sentences.test, new Rng(seed * 31 + 3));
  const data = (examples: Array<{ tokens: number[]; lossStart: number }>): Dataset => ({ vocab: vocab.tokens.length, padId: CFG_PAD, examples });
  return { pretrain: data(pretrain), train: data(train.map(example)), val: data(val.map(example)), test };
}

/** A completion as a training example whose answer is the loss region. */
export function example(c: Completion): { tokens: number[]; lossStart: number } {
  return { tokens: [...c.prompt, ...c.answer], lossStart: c.prompt.length };
}

function sentences(g: Grammar, n: number, rng: Rng): string[][] {
  return Array.from({ length: n }, () => sampleSequence(g, rng));
}

function completion(s: number[], p: CfgPreset): Completion {
  return { prompt: [CFG_BOS, ...s.slice(0, p.prefix)], answer: s.slice(p.prefix, p.prefix + p.answer) };
}

function key(c: Completion): string {
  return [...c.prompt, ...c.answer].join(",");
}

/** n completions of fresh sentences long enough and not in `seen`. */
function completions(g: Grammar, ids: (s: string[]) => number[], p: CfgPreset, n: number, rng: Rng, seen: Set<string>): Completion[] {
  const out: Completion[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 50 * n + 1000) throw new Error(`could not draw ${n} held-out completions of ${p.prefix} + ${p.answer} terminals from grammar "${g.name}"`);
    const s = ids(sampleSequence(g, rng));
    if (s.length < p.prefix + p.answer) continue;
    const c = completion(s, p);
    if (!seen.has(key(c))) out.push(c);
  }
  return out;
}
