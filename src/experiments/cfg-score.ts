/**
 * Scoring completions. Generation step s (1-based) is the s-th answer position after the
 * prompt, whatever produced it (a token, or a latent the Talker reads as a token).
 * accuracy[s]: the model's token at step s equals the clean sentence's terminal there.
 * valid[s]: the clean prefix followed by the model's tokens 1 … s is still a prefix of some
 * sentence (Earley parser). For C, whose first steps are latents with no token, only the tail
 * is scored: exactTail (all tail tokens equal the truth) and validTail (some terminals at the
 * latent steps make prefix + those + the tail a valid prefix). R and T get the same tail scores.
 */
import { EarleyParser } from "../data/cfg-parser.js";
import type { Grammar } from "../data/cfg-grammar.js";
import type { Completion, CfgVocab } from "./cfg-data.js";

/** Scores of one model at one noise level; per-step arrays have one entry per answer position (null where it emits no token). */
export interface CompletionScores {
  accuracy: Array<number | null>;
  valid: Array<number | null>;
  exactTail: number;
  validTail: number;
  count: number;
}

/** Earley parsers positioned after each test example's clean prefix, reused by every model and level. */
export class PrefixParsers {
  private readonly parsers: EarleyParser[];
  private readonly lengths: number[];

  constructor(grammar: Grammar, private readonly vocab: CfgVocab, tests: readonly Completion[]) {
    this.parsers = tests.map((c) => {
      const p = new EarleyParser(grammar);
      if (!p.feedAll(this.strings(c.prompt.slice(1)))) throw new Error("a test prompt is not a valid prefix of the grammar");
      return p;
    });
    this.lengths = this.parsers.map((p) => p.length);
  }

  /** How many of the tokens, from the first, keep example i's clean prefix viable. */
  viableRun(i: number, tokens: readonly number[]): number {
    const p = this.parsers[i];
    p.rewind(this.lengths[i]);
    let n = 0;
    for (const t of this.strings(tokens)) {
      if (!p.feed(t)) break;
      n++;
    }
    p.rewind(this.lengths[i]);
    return n;
  }

  /** Whether some `gap` terminals after example i's clean prefix make prefix + gap + tail viable. */
  viableAfterGap(i: number, gap: number, tail: readonly number[]): boolean {
    const p = this.parsers[i];
    p.rewind(this.lengths[i]);
    const ok = search(p, gap, this.strings(tail));
    p.rewind(this.lengths[i]);
    return ok;
  }

  /** Special tokens map to names the grammar does not know, so the parser rejects them. */
  private strings(ids: readonly number[]): string[] {
    return ids.map((id) => this.vocab.tokens[id] ?? `<${id}>`);
  }
}

/** Depth-first over the terminals that keep the parse viable; the tail is tried at depth `gap`. */
function search(p: EarleyParser, gap: number, tail: string[]): boolean {
  const base = p.length;
  if (gap === 0) {
    const ok = p.feedAll(tail);
    p.rewind(base);
    return ok;
  }
  for (const t of p.nextTerminals()) {
    p.feed(t);
    const ok = search(p, gap - 1, tail);
    p.rewind(base);
    if (ok) return true;
  }
  return false;
}

/**
 * Scores outputs[i] (the model's tokens for answer positions first … first + len − 1 of
 * tests[i]) against the truth; the tail is the last `tail` answer positions.
 */
export function scoreCompletions(tests: readonly Completion[], outputs: readonly number[][], first: number, tail: number, parsers: PrefixParsers): CompletionScores {
  const A = tests[0].answer.length;
  const hits = new Array<number>(A).fill(0), valid = new Array<number>(A).fill(0);
  let exactTail = 0, validTail = 0;
  tests.forEach((c, i) => {
    const out = outputs[i];
    if (out.length !== A - first) throw new Error(`scoreCompletions: ${out.length} tokens for answer positions ${first} … ${A - 1}`);
    out.forEach((t, j) => { if (t === c.answer[first + j]) hits[first + j]++; });
    if (first === 0) {
      const run = parsers.viableRun(i, out);
      for (let s = 0; s < run; s++) valid[s]++;
    }
    const tailTokens = out.slice(out.length - tail);
    if (tailTokens.every((t, j) => t === c.answer[A - tail + j])) exactTail++;
    if (parsers.viableAfterGap(i, A - tail, tailTokens)) validTail++;
  });
  const n = tests.length;
  return {
    accuracy: hits.map((h, s) => (s < first ? null : h / n)),
    valid: valid.map((v) => (first === 0 ? v / n : null)),
    exactTail: exactTail / n, validTail: validTail / n, count: n,
  };
}
