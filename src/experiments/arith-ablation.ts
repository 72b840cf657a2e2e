/**
 * The Talker ablation of the paper's Appendix C, made quantitative. A trained Reasoner and
 * Dual-Talker read held-out problems ("Question: … Answer:" and the worked answer); the decoder
 * starts from the prompt's last token and the answer's first `prefix` tokens, then decodes
 * freely. Five conditions change what it reads:
 *   clean       the Reasoner's latents of this problem;
 *   random      the Reasoner's latents of a random token string of the same length;
 *   prefix      clean latents, but the decoder prefix replaced by random tokens;
 *   gaussian    N(0, 1) vectors instead of latents (norm about √d, not 1, as in the paper);
 *   mismatch    the latents of another problem, with this problem's prefix.
 * Scores: token accuracy of the free decoding against the reference after the prefix, next-
 * token accuracy with the true previous tokens (teacher-forced decoder), and whether the
 * decoded text's `#### N` is right; for mismatch also the accuracy against the other problem.
 */
import type { Engine } from "../engine/engine.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import type { Gsm8kExample } from "../data/gsm8k.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { answerMatches, extractStrict } from "../eval/gsm8k-answer.js";
import { buildPrompt, cutAtStop, goldAnswer, GSM8K_TASKS } from "../eval/gsm8k-tasks.js";
import { rollout } from "../infer/rollout.js";
import { argmax } from "../infer/sampling.js";
import { dualTalk } from "../infer/talk.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { Reasoner } from "../model/reasoner.js";
import type { LatentSource } from "../train/talker-phase.js";

/** The conditions, in the paper's order. */
export const ABLATION_CONDITIONS = [
  { key: "clean", name: "clean latents", paper: "fluent reconstruction" },
  { key: "random", name: "latents of a random string", paper: "the prefix, then garbage" },
  { key: "prefix", name: "decoder prefix corrupted", paper: "mostly coherent, a local error" },
  { key: "gaussian", name: "Gaussian N(0, 1) latents", paper: "the prefix, then word salad" },
  { key: "mismatch", name: "another problem's latents, this prefix", paper: "switches to the other sentence" },
] as const;

type ConditionKey = (typeof ABLATION_CONDITIONS)[number]["key"];

/** One decoded example, for the report. */
export interface AblationSample {
  reference: string;
  output: string;
  /** mismatch only: the reference of the problem whose latents were read. */
  latentsOf?: string;
}

/** One condition's scores over all problems, and a few outputs. */
export interface AblationCondition {
  key: ConditionKey;
  name: string;
  paper: string;
  tokenAccuracy: number;
  nextTokenAccuracy: number;
  answerCorrect: number;
  /** mismatch only: accuracy of the free decoding against the problem the latents came from. */
  sourceAccuracy: number | null;
  samples: AblationSample[];
}

/** The whole ablation. */
export interface AblationResult {
  problems: number;
  prefix: number;
  source: LatentSource;
  conditions: AblationCondition[];
}

/** A problem as ids: the 0-shot prompt and the reference answer (end token included). */
interface Encoded {
  prompt: number[];
  reference: number[];
  gold: string;
}

/** Options: prefix length, the noise generator, and which latents the Talker was trained on. */
export interface AblationOptions {
  prefix: number;
  rng: Rng;
  source: LatentSource;
}

/** Counts of one condition, summed over problems. */
interface Tally {
  hits: number;
  next: number;
  count: number;
  answers: number;
  source: number;
  sourceCount: number;
  samples: AblationSample[];
}

/** Runs the five conditions on every problem. */
export function runTalkerAblation(engine: Engine, reasoner: Reasoner, talker: DualTalker, tokenizer: Tokenizer, problems: readonly Gsm8kExample[], o: AblationOptions): AblationResult {
  const encoded = problems.map((p) => encode(tokenizer, p));
  const conditions = ABLATION_CONDITIONS.map((c) => {
    const t: Tally = { hits: 0, next: 0, count: 0, answers: 0, source: 0, sourceCount: 0, samples: [] };
    encoded.forEach((ex, i) => engine.noGrad(() => engine.scoped(() => tallyOne(t, c.key, engine, reasoner, talker, tokenizer, ex, encoded[(i + 1) % encoded.length], o))));
    return {
      key: c.key, name: c.name, paper: c.paper, tokenAccuracy: t.hits / t.count, nextTokenAccuracy: t.next / t.count,
      answerCorrect: t.answers / encoded.length, sourceAccuracy: c.key === "mismatch" ? t.source / t.sourceCount : null, samples: t.samples,
    };
  });
  return { problems: encoded.length, prefix: o.prefix, source: o.source, conditions };
}

/** Decodes one problem under one condition and adds its scores to the tally. */
function tallyOne(t: Tally, key: ConditionKey, engine: Engine, reasoner: Reasoner, talker: DualTalker, tokenizer: Tokenizer, ex: Encoded, other: Encoded, o: AblationOptions): void {
  const k = Math.min(o.prefix, ex.reference.length - 1);
  const { chain, prefix } = conditionInputs(key, engine, reasoner, tokenizer, ex, other, k, o);
  const out = dualTalk(talker, chain, { prefix: [prefix], maxTokens: ex.reference.length - k, stopToken: tokenizer.endId })[0].slice(prefix.length);
  t.hits += matches(out, ex.reference.slice(k));
  t.next += nextTokenHits(talker, chain, prefix, ex.reference, k);
  t.count += ex.reference.length - k;
  const text = cutAtStop(tokenizer.decode([...ex.reference.slice(0, k), ...out.filter((id) => id !== tokenizer.endId)]), GSM8K_TASKS.gsm8k.stopSequences).text;
  if (answerMatches(extractStrict("gsm8k", text), ex.gold)) t.answers++;
  if (key === "mismatch") {
    t.source += matches(out, other.reference.slice(k));
    t.sourceCount += Math.max(0, other.reference.length - k);
  }
  if (t.samples.length < 2) {
    const sample: AblationSample = { reference: tokenizer.decode(ex.reference), output: tokenizer.decode([...prefix.slice(1), ...out]) };
    t.samples.push(key === "mismatch" ? { ...sample, latentsOf: tokenizer.decode(other.reference) } : sample);
  }
}

function encode(tokenizer: Tokenizer, p: Gsm8kExample): Encoded {
  return {
    prompt: tokenizer.encode(buildPrompt(GSM8K_TASKS.gsm8k, [], p.question)),
    reference: [...tokenizer.encode(` ${p.answer}`), tokenizer.endId],
    gold: goldAnswer(p),
  };
}

/** The chain (1, L, D) and the decoder prefix (start token + k tokens) of one condition. */
function conditionInputs(key: ConditionKey, engine: Engine, reasoner: Reasoner, tokenizer: Tokenizer, ex: Encoded, other: Encoded, k: number, o: AblationOptions): { chain: Tensor; prefix: number[] } {
  const start = ex.prompt[ex.prompt.length - 1];
  const prefix = [start, ...ex.reference.slice(0, k)];
  const random = (n: number) => Array.from({ length: n }, () => randomToken(tokenizer, o.rng));
  switch (key) {
    case "clean":
      return { chain: chainOf(reasoner, ex, o.source), prefix };
    case "random":
      return { chain: chainOf(reasoner, { prompt: random(ex.prompt.length), reference: random(ex.reference.length), gold: "" }, o.source), prefix };
    case "prefix":
      return { chain: chainOf(reasoner, ex, o.source), prefix: [start, ...random(k)] };
    case "gaussian":
      return { chain: engine.fromArray(o.rng.normals(ex.reference.length * reasoner.config.dModel), [1, ex.reference.length, reasoner.config.dModel]), prefix };
    case "mismatch":
      return { chain: chainOf(reasoner, other, o.source), prefix };
  }
}

/** A uniformly drawn token that is neither padding nor the end token. */
function randomToken(tokenizer: Tokenizer, rng: Rng): number {
  for (;;) {
    const id = rng.int(tokenizer.size);
    if (id !== tokenizer.padId && id !== tokenizer.endId) return id;
  }
}

/** The Reasoner's chain (1, L, D) for a problem's answer positions: teacher-forced, or rolled out from the prompt. */
function chainOf(reasoner: Reasoner, ex: Encoded, source: LatentSource): Tensor {
  const e = reasoner.ema.engine;
  const P = ex.prompt.length, L = ex.reference.length;
  if (source === "rollout") return rollout(reasoner, e.fromArray(ex.prompt, [1, P], { dtype: "i32" }), { steps: L });
  const tokens = [...ex.prompt, ...ex.reference.slice(0, -1)];
  return sliceSeq(reasoner.latents(e.fromArray(tokens, [1, tokens.length], { dtype: "i32" })), P - 1, L);
}

/** Positions where the decoded tokens equal the reference (missing tokens count as wrong). */
function matches(out: readonly number[], reference: readonly number[]): number {
  let hits = 0;
  for (let j = 0; j < reference.length; j++) if (out[j] === reference[j]) hits++;
  return hits;
}

/** Teacher-forced decoder: true previous tokens after the prefix; hits at the positions from k on. */
function nextTokenHits(talker: DualTalker, chain: Tensor, prefix: number[], reference: readonly number[], k: number): number {
  const e = chain.engine;
  const inputs = [...prefix, ...reference.slice(k, reference.length - 1)];
  const logits = talker.decode(e.fromArray(inputs, [1, inputs.length], { dtype: "i32" }), talker.encode(chain)).view();
  const V = talker.config.stack.vocab;
  let hits = 0;
  for (let t = k; t < reference.length; t++) if (argmax(logits.subarray(t * V, (t + 1) * V)) === reference[t]) hits++;
  return hits;
}
