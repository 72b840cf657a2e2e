/**
 * A seeded generator of multi-step arithmetic word problems in GSM8K's format: a short story
 * about one person's items, changed by 2 to 5 operations (+, −, ×, ÷), and a worked solution
 * with one line per step, calculator annotations `<<a*b=c>>` as GSM8K writes them, and a
 * final `#### N`. Every intermediate value stays a whole number from 1 to `maxValue`.
 */
import type { Rng } from "../engine/rng.js";
import type { Gsm8kExample } from "./gsm8k.js";

/** A generated problem: GSM8K's two fields plus the result and the number of operations. */
export interface ArithProblem extends Gsm8kExample {
  result: number;
  operations: number;
}

/** Ranges of a generated problem. */
export interface ArithOptions {
  minOps: number;
  maxOps: number;
  /** Largest value any step may produce. */
  maxValue: number;
  /** Write GSM8K's `<<a+b=c>>` calculator annotations in the solution (default true). */
  calculator: boolean;
}

/** The defaults: 2 to 5 operations, values up to 999, with annotations. */
export const ARITH_DEFAULTS: ArithOptions = { minOps: 2, maxOps: 5, maxValue: 999, calculator: true };

const PEOPLE: ReadonlyArray<readonly [string, "she" | "he"]> = [
  ["Ava", "she"], ["Ben", "he"], ["Cara", "she"], ["Dan", "he"], ["Ella", "she"], ["Finn", "he"], ["Gina", "she"], ["Hugo", "he"],
  ["Iris", "she"], ["Jack", "he"], ["Kate", "she"], ["Leo", "he"], ["Mia", "she"], ["Noah", "he"], ["Olga", "she"], ["Paul", "he"],
  ["Rosa", "she"], ["Sam", "he"], ["Tara", "she"], ["Omar", "he"], ["Vera", "she"], ["Will", "he"], ["Yara", "she"], ["Zane", "he"],
];
const ITEMS = ["apples", "marbles", "stickers", "books", "coins", "pencils", "cards", "shells", "eggs", "cookies", "stamps", "beads", "candies", "flowers", "toys", "rocks"];
const CONTAINERS = ["bags", "boxes", "packs", "jars", "baskets"];

/** The story so far: who, what, how many, and the text of both halves. */
interface Story {
  name: string;
  pronoun: string;
  other: readonly [string, string];
  items: string;
  value: number;
  sentences: string[];
  lines: string[];
  operations: number;
}

/** One kind of step: whether it can apply, and applying it (adds a sentence and solution lines). */
interface Step {
  ops: number;
  fits(s: Story, o: ArithOptions): boolean;
  apply(s: Story, rng: Rng, o: ArithOptions): void;
}

const cap = (w: string) => w[0].toUpperCase() + w.slice(1);

/** "a op b = <<a op b=c>>c" (or without the annotation). */
function calc(a: number, op: string, b: number, c: number, o: ArithOptions): string {
  return o.calculator ? `${a} ${op} ${b} = <<${a}${op}${b}=${c}>>${c}` : `${a} ${op} ${b} = ${c}`;
}

/** Picks uniformly from [lo, hi] (hi >= lo). */
function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

const STEPS: Record<string, Step> = {
  add: {
    ops: 1,
    fits: (s, o) => s.value + 2 <= o.maxValue,
    apply(s, rng, o) {
      const n = between(rng, 2, Math.min(30, o.maxValue - s.value));
      const object = s.pronoun === "she" ? "her" : "him";
      const said = [`${cap(s.pronoun)} buys ${n} more ${s.items}.`, `${cap(s.pronoun)} finds ${n} more ${s.items}.`, `${s.other[0]} gives ${object} ${n} ${s.items}.`][rng.int(3)];
      s.sentences.push(said);
      s.lines.push(`${s.name} has ${calc(s.value, "+", n, s.value + n, o)} ${s.items}.`);
      s.value += n;
    },
  },
  sub: {
    ops: 1,
    fits: (s) => s.value >= 3,
    apply(s, rng, o) {
      const n = between(rng, 1, Math.min(30, s.value - 1));
      const said = [`${cap(s.pronoun)} gives ${n} ${s.items} to ${s.other[0]}.`, `${cap(s.pronoun)} loses ${n} ${s.items}.`, `${cap(s.pronoun)} sells ${n} ${s.items}.`][rng.int(3)];
      s.sentences.push(said);
      s.lines.push(`${s.name} has ${calc(s.value, "-", n, s.value - n, o)} ${s.items} left.`);
      s.value -= n;
    },
  },
  group: {
    ops: 2,
    fits: (s, o) => s.value + 4 <= o.maxValue,
    apply(s, rng, o) {
      // k <= (maxValue - value) / 2 leaves room for at least 2 items per container.
      const k = between(rng, 2, Math.min(6, Math.floor((o.maxValue - s.value) / 2)));
      const n = between(rng, 2, Math.min(12, Math.floor((o.maxValue - s.value) / k)));
      const box = CONTAINERS[rng.int(CONTAINERS.length)];
      s.sentences.push(`${cap(s.pronoun)} buys ${k} ${box} with ${n} ${s.items} in each.`);
      s.lines.push(`The ${box} hold ${calc(k, "*", n, k * n, o)} ${s.items}.`);
      s.lines.push(`${s.name} has ${calc(s.value, "+", k * n, s.value + k * n, o)} ${s.items}.`);
      s.value += k * n;
    },
  },
  scale: {
    ops: 1,
    fits: (s, o) => s.value * 2 <= o.maxValue,
    apply(s, rng, o) {
      const k = s.value * 3 <= o.maxValue && rng.int(2) === 1 ? 3 : 2;
      s.sentences.push(`Then the number of ${s.items} ${s.pronoun} has ${k === 2 ? "doubles" : "triples"}.`);
      s.lines.push(`${s.name} has ${calc(s.value, "*", k, s.value * k, o)} ${s.items}.`);
      s.value *= k;
    },
  },
  split: {
    ops: 1,
    fits: (s) => divisors(s.value).length > 0,
    apply(s, rng, o) {
      const ks = divisors(s.value);
      const k = ks[rng.int(ks.length)];
      s.sentences.push(`${cap(s.pronoun)} splits the ${s.items} into ${k} equal piles and keeps one pile.`);
      s.lines.push(`${s.name} keeps ${calc(s.value, "/", k, s.value / k, o)} ${s.items}.`);
      s.value /= k;
    },
  },
};

/** The k in 2..5 that split `value` into equal whole piles. */
function divisors(value: number): number[] {
  return [2, 3, 4, 5].filter((k) => value % k === 0 && value / k >= 1);
}

/** One problem with between minOps and maxOps operations. */
export function generateArithProblem(rng: Rng, options: Partial<ArithOptions> = {}): ArithProblem {
  const o = { ...ARITH_DEFAULTS, ...options };
  if (!(o.minOps >= 1 && o.maxOps >= o.minOps && o.maxValue >= 50)) throw new Error("arith: need 1 <= minOps <= maxOps and maxValue >= 50");
  const [name, pronoun] = PEOPLE[rng.int(PEOPLE.length)];
  let other = PEOPLE[rng.int(PEOPLE.length)];
  while (other[0] === name) other = PEOPLE[rng.int(PEOPLE.length)];
  const items = ITEMS[rng.int(ITEMS.length)];
  const start = between(rng, 2, 40);
  const s: Story = { name, pronoun, other, items, value: start, sentences: [`${name} has ${start} ${items}.`], lines: [], operations: 0 };
  const target = between(rng, o.minOps, o.maxOps);
  while (s.operations < target) {
    // add fits below maxValue - 1 and sub from 3 up, so some step always fits.
    const fitting = Object.values(STEPS).filter((st) => st.ops <= target - s.operations && st.fits(s, o));
    const step = fitting[rng.int(fitting.length)];
    step.apply(s, rng, o);
    s.operations += step.ops;
  }
  const question = [...s.sentences, `How many ${items} does ${name} have now?`].join(" ");
  return { question, answer: [...s.lines, `#### ${s.value}`].join("\n"), result: s.value, operations: s.operations };
}

/** Disjoint train and test problems: no question occurs twice, within or across the splits. */
export function generateArithSplits(counts: { train: number; test: number }, rng: Rng, options: Partial<ArithOptions> = {}): { train: ArithProblem[]; test: ArithProblem[] } {
  const seen = new Set<string>();
  const take = (n: number): ArithProblem[] => {
    const out: ArithProblem[] = [];
    for (let tries = 0; out.length < n; tries++) {
      if (tries > 50 * n + 1000) throw new Error(`arith: could not generate ${n} distinct problems`);
      const p = generateArithProblem(rng, options);
      if (seen.has(p.question)) continue;
      seen.add(p.question);
      out.push(p);
    }
    return out;
  };
  const train = take(counts.train);
  return { train, test: take(counts.test) };
}
