/**
 * The training sequences of the arithmetic comparison: every problem becomes the question of a
 * few-shot prompt in the `gsm8k` convention (0 to maxShots solved problems of the training
 * split before it, drawn at random), followed by its worked answer and the end token. The
 * answer is the loss region. Pretraining reads the same text packed: runs of solved problems in
 * the same format cut to the sequence length, every position a target and none padding.
 * Evaluation prompts are built by the same code (src/eval).
 */
import type { Rng } from "../engine/rng.js";
import type { Dataset, Example } from "../data/dataset.js";
import type { Gsm8kExample } from "../data/gsm8k.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { buildPrompt, GSM8K_TASKS } from "../eval/gsm8k-tasks.js";

/** Prompt, answer and end token as ids; lossStart is where the answer starts. */
export function problemExample(tokenizer: Tokenizer, exemplars: readonly Gsm8kExample[], problem: Gsm8kExample): Example {
  const prompt = tokenizer.encode(buildPrompt(GSM8K_TASKS.gsm8k, exemplars.map((e) => ({ question: e.question, target: e.answer })), problem.question));
  // The answer is encoded on its own, exactly as a model continues an encoded prompt.
  return { tokens: [...prompt, ...tokenizer.encode(` ${problem.answer}`), tokenizer.endId], lossStart: prompt.length };
}

/** One few-shot sequence per problem; exemplars are distinct problems of `pool` other than the question. */
export function fewShotDataset(tokenizer: Tokenizer, problems: readonly Gsm8kExample[], pool: readonly Gsm8kExample[], maxShots: number, rng: Rng): Dataset {
  const examples = problems.map((p) => {
    const k = rng.int(maxShots + 1);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, pool.length - 1)) {
      const i = rng.int(pool.length);
      if (pool[i] !== p) chosen.add(i);
    }
    return problemExample(tokenizer, [...chosen].map((i) => pool[i]), p);
  });
  return { vocab: tokenizer.size, padId: tokenizer.padId, examples };
}

/**
 * `count` sequences of exactly `length` tokens, each a run of solved problems (random ones of
 * `pool`) joined as shots of a few-shot prompt and cut at `length`: pretraining text without
 * padding, in the format and at the context lengths evaluation uses.
 */
export function packedDataset(tokenizer: Tokenizer, pool: readonly Gsm8kExample[], length: number, count: number, rng: Rng): Dataset {
  const examples = Array.from({ length: count }, () => {
    const shots: Gsm8kExample[] = [];
    let tokens: number[] = [];
    // A shot is rarely more than 1/4 of a sequence, so this converges in a few rounds.
    while (tokens.length < length) {
      for (let i = 0; i < 4; i++) shots.push(pool[rng.int(pool.length)]);
      tokens = tokenizer.encode(shots.map((p) => `${GSM8K_TASKS.gsm8k.question(p.question)} ${p.answer}`).join("\n\n"));
    }
    return { tokens: tokens.slice(0, length), lossStart: 1 };
  });
  return { vocab: tokenizer.size, padId: tokenizer.padId, examples };
}

/** The text the tokenizer learns from: each training problem as a 0-shot prompt with its answer. */
export function tokenizerCorpus(problems: readonly Gsm8kExample[]): string[] {
  return problems.map((p) => `${buildPrompt(GSM8K_TASKS.gsm8k, [], p.question)} ${p.answer}`);
}
