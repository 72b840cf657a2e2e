/** Levelled context-free grammars in the style of Allen-Zhu & Li's cfg3 family: generation, validation, sampling. */
import { Rng } from "../engine/rng.js";

/**
 * A grammar as plain JSON-serialisable data. Non-terminals are the keys of `rules`; every other
 * symbol must be one of `terminals`. `levels` is the number of rewrite steps on the longest path
 * from `start` to a terminal. Alternatives are non-empty (no epsilon rules) and the rule graph is
 * acyclic, so the language is finite and every derivation terminates.
 */
export interface Grammar {
  name: string;
  levels: number;
  terminals: string[];
  start: string;
  rules: Record<string, string[][]>;
}

/** Options for generateGrammar; every field has a default matching the "paper" shape. */
export interface GrammarOptions {
  name?: string;
  /** Number of non-terminal levels; the last level rewrites to terminals. */
  levels?: number;
  /** Number of terminal symbols, named "1", "2", ... */
  terminals?: number;
  /** Non-terminals per level, root level first (must be 1). */
  symbolsPerLevel?: number[];
  /** Inclusive range for the number of alternatives of each non-terminal. */
  rulesPerSymbol?: [number, number];
  /** Inclusive range for right-hand-side lengths. */
  rhsLength?: [number, number];
  /** Relative weight of each length in rhsLength (lowest first); uniform when omitted. */
  rhsLengthWeights?: number[];
  seed?: number;
}

/**
 * The grammars every experiment uses. "paper" follows paper §5.2 (5 levels, 3 terminals, RHS of
 * 3–4 symbols); length 4 is weighted 2:1 because uniform 3–4 gives ≈3.5⁵ ≈ 525 terminals, short of
 * the paper's typical 600–700 (mean RHS 3.67 gives ≈3.67⁵ ≈ 660). "cpu" keeps the same construction
 * with 4 levels and a 2–4 RHS so strings are ~60–120 terminals, small enough for CPU training.
 */
export const GRAMMAR_PRESETS = {
  paper: {
    name: "paper", levels: 5, terminals: 3, symbolsPerLevel: [1, 3, 3, 3, 3],
    rulesPerSymbol: [2, 3], rhsLength: [3, 4], rhsLengthWeights: [1, 2], seed: 2512_19171,
  },
  cpu: {
    name: "cpu", levels: 4, terminals: 3, symbolsPerLevel: [1, 3, 3, 3],
    rulesPerSymbol: [2, 3], rhsLength: [2, 4], rhsLengthWeights: [1, 2, 1], seed: 2512_19171,
  },
} satisfies Record<string, GrammarOptions>;

/** Name of a committed grammar preset. */
export type GrammarPresetName = keyof typeof GRAMMAR_PRESETS;

const MAX_LEVEL_TRIES = 10_000;

/**
 * Builds a random levelled grammar: each non-terminal of level ℓ gets 2–3 distinct alternatives of
 * level-(ℓ+1) symbols, and the last level rewrites to terminals. Each level is redrawn until every
 * next-level symbol is used and no two non-terminals share a rule set, so all symbols are reachable
 * and distinct. Like cfg3 the result is locally ambiguous (short terminal windows fit many parses);
 * it is not guaranteed unambiguous, which only matters if someone counts parses.
 */
export function generateGrammar(options: GrammarOptions = {}): Grammar {
  const o = resolveOptions(options);
  const rng = new Rng(o.seed);
  const names = o.symbolsPerLevel.map((count, level) => Array.from({ length: count }, (_, i) => `N${level + 1}_${i}`));
  const terminals = Array.from({ length: o.terminals }, (_, i) => String(i + 1));
  const rules: Record<string, string[][]> = {};
  for (let level = 0; level < o.levels; level++) {
    const next = level + 1 < o.levels ? names[level + 1] : terminals;
    const levelRules = drawLevel(names[level], next, o, rng);
    for (const [lhs, alts] of levelRules) rules[lhs] = alts;
  }
  const grammar: Grammar = { name: o.name, levels: o.levels, terminals, start: names[0][0], rules };
  validateGrammar(grammar);
  return grammar;
}

type ResolvedOptions = Required<GrammarOptions>;

function resolveOptions(options: GrammarOptions): ResolvedOptions {
  const levels = options.levels ?? 5;
  const o: ResolvedOptions = {
    name: options.name ?? "generated",
    levels,
    terminals: options.terminals ?? 3,
    symbolsPerLevel: options.symbolsPerLevel ?? [1, ...Array<number>(levels - 1).fill(3)],
    rulesPerSymbol: options.rulesPerSymbol ?? [2, 3],
    rhsLength: options.rhsLength ?? [3, 4],
    rhsLengthWeights: options.rhsLengthWeights ?? [],
    seed: options.seed ?? 0,
  };
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`levels must be a positive integer, got ${levels}`);
  if (!Number.isInteger(o.terminals) || o.terminals < 1) throw new Error(`terminals must be a positive integer, got ${o.terminals}`);
  if (o.symbolsPerLevel.length !== levels) throw new Error(`symbolsPerLevel needs ${levels} entries, got ${o.symbolsPerLevel.length}`);
  if (o.symbolsPerLevel[0] !== 1) throw new Error(`the root level must have exactly 1 symbol, got ${o.symbolsPerLevel[0]}`);
  if (o.symbolsPerLevel.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("symbolsPerLevel entries must be positive integers");
  checkRange("rulesPerSymbol", o.rulesPerSymbol);
  checkRange("rhsLength", o.rhsLength);
  const span = o.rhsLength[1] - o.rhsLength[0] + 1;
  if (o.rhsLengthWeights.length === 0) o.rhsLengthWeights = Array<number>(span).fill(1);
  if (o.rhsLengthWeights.length !== span || o.rhsLengthWeights.some((w) => !(w >= 0)) || !o.rhsLengthWeights.some((w) => w > 0)) {
    throw new Error(`rhsLengthWeights needs ${span} non-negative weights (not all zero), got [${o.rhsLengthWeights.join(", ")}]`);
  }
  return o;
}

function checkRange(label: string, [lo, hi]: [number, number]): void {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) throw new Error(`${label} must be [min, max] with 1 <= min <= max, got [${lo}, ${hi}]`);
}

/** Draws one level's rules, retrying until it covers the next level and its rule sets are distinct. */
function drawLevel(lhs: string[], next: string[], o: ResolvedOptions, rng: Rng): Map<string, string[][]> {
  for (let tries = 0; tries < MAX_LEVEL_TRIES; tries++) {
    const counts = lhs.map(() => o.rulesPerSymbol[0] + rng.int(o.rulesPerSymbol[1] - o.rulesPerSymbol[0] + 1));
    const lengths = stratifiedLengths(counts.reduce((a, b) => a + b, 0), o, rng);
    const level = new Map<string, string[][]>();
    let ok = true;
    for (let s = 0; s < lhs.length && ok; s++) {
      const alts = drawAlternatives(lengths.splice(0, counts[s]), next, rng);
      ok = alts !== null;
      if (alts) level.set(lhs[s], alts);
    }
    if (ok && coversAll(level, next) && distinctRuleSets(level)) return level;
  }
  throw new Error(`could not draw a level over [${next.join(", ")}] covering every symbol; loosen the options`);
}

/** Lengths in exact weight proportions (largest remainder), shuffled: fewer seeds give off-target string lengths. */
function stratifiedLengths(total: number, o: ResolvedOptions, rng: Rng): number[] {
  const weights = o.rhsLengthWeights;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const quotas = exact.map(Math.floor);
  const byRemainder = exact.map((_, i) => i).sort((a, b) => exact[b] - quotas[b] - (exact[a] - quotas[a]) || a - b);
  for (let k = 0; quotas.reduce((a, b) => a + b, 0) < total; k++) quotas[byRemainder[k]]++;
  const lengths = quotas.flatMap((q, i) => Array<number>(q).fill(o.rhsLength[0] + i));
  return rng.shuffle(lengths);
}

/** Uniform random right-hand sides of the given lengths, or null when they cannot all be distinct. */
function drawAlternatives(lengths: number[], next: string[], rng: Rng): string[][] | null {
  const alts: string[][] = [];
  const seen = new Set<string>();
  for (const len of lengths) {
    let rhs: string[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      rhs = Array.from({ length: len }, () => next[rng.int(next.length)]);
      if (!seen.has(rhs.join(" "))) break;
    }
    if (seen.has(rhs.join(" "))) return null;
    seen.add(rhs.join(" "));
    alts.push(rhs);
  }
  return alts;
}

function coversAll(level: Map<string, string[][]>, next: string[]): boolean {
  const used = new Set([...level.values()].flat(2));
  return next.every((s) => used.has(s));
}

function distinctRuleSets(level: Map<string, string[][]>): boolean {
  const keys = [...level.values()].map((alts) => alts.map((a) => a.join(" ")).sort().join("|"));
  return new Set(keys).size === keys.length;
}

/** Throws an Error naming the first problem: unknown symbols, empty rules, missing rules, cycles, unreachable symbols, a wrong level count. */
export function validateGrammar(g: Grammar): void {
  if (typeof g !== "object" || g === null) throw new Error("grammar must be an object");
  if (typeof g.name !== "string") throw new Error("grammar.name must be a string");
  if (!Array.isArray(g.terminals) || g.terminals.length === 0) throw new Error(`grammar "${g.name}": terminals must be a non-empty array`);
  const terminals = new Set(g.terminals);
  if (terminals.size !== g.terminals.length) throw new Error(`grammar "${g.name}": duplicate terminal symbols`);
  if (g.terminals.some((t) => typeof t !== "string" || t === "")) throw new Error(`grammar "${g.name}": terminals must be non-empty strings`);
  if (typeof g.rules !== "object" || g.rules === null) throw new Error(`grammar "${g.name}": rules must be an object`);
  for (const [lhs, alts] of Object.entries(g.rules)) checkRule(g, terminals, lhs, alts);
  if (!Object.hasOwn(g.rules, g.start)) throw new Error(`grammar "${g.name}": start symbol "${g.start}" has no rules`);
  const height = symbolHeights(g);
  const unreachable = Object.keys(g.rules).filter((s) => !reachable(g).has(s));
  if (unreachable.length > 0) throw new Error(`grammar "${g.name}": non-terminals unreachable from "${g.start}": ${unreachable.join(", ")}`);
  if (g.levels !== height.get(g.start)) throw new Error(`grammar "${g.name}": levels is ${g.levels} but the longest derivation from "${g.start}" has ${height.get(g.start)} rewrite levels`);
}

function checkRule(g: Grammar, terminals: Set<string>, lhs: string, alts: string[][]): void {
  const where = `grammar "${g.name}", rule "${lhs}"`;
  if (terminals.has(lhs)) throw new Error(`${where}: a terminal cannot have rules`);
  if (!Array.isArray(alts) || alts.length === 0) throw new Error(`${where}: needs at least one alternative`);
  alts.forEach((rhs, i) => {
    if (!Array.isArray(rhs) || rhs.length === 0) throw new Error(`${where}, alternative ${i}: empty right-hand side (epsilon rules are not supported)`);
    for (const sym of rhs) {
      if (!terminals.has(sym) && !Object.hasOwn(g.rules, sym)) throw new Error(`${where}, alternative ${i}: unknown symbol "${sym}" (neither a terminal nor a non-terminal with rules)`);
    }
  });
}

/** Height of every non-terminal (terminals are 0); throws on a cycle, naming it. */
function symbolHeights(g: Grammar): Map<string, number> {
  const height = new Map<string, number>();
  const onPath: string[] = [];
  const visit = (sym: string): number => {
    if (!Object.hasOwn(g.rules, sym)) return 0;
    const known = height.get(sym);
    if (known !== undefined) return known;
    const at = onPath.indexOf(sym);
    if (at >= 0) throw new Error(`grammar "${g.name}": cycle ${[...onPath.slice(at), sym].join(" -> ")} (recursive rules are not supported)`);
    onPath.push(sym);
    let h = 0;
    for (const rhs of g.rules[sym]) for (const s of rhs) h = Math.max(h, visit(s));
    onPath.pop();
    height.set(sym, h + 1);
    return h + 1;
  };
  for (const sym of Object.keys(g.rules)) visit(sym);
  return height;
}

function reachable(g: Grammar): Set<string> {
  const seen = new Set<string>([g.start]);
  const stack = [g.start];
  while (stack.length > 0) {
    for (const rhs of g.rules[stack.pop()!] ?? []) {
      for (const s of rhs) if (Object.hasOwn(g.rules, s) && !seen.has(s)) { seen.add(s); stack.push(s); }
    }
  }
  return seen;
}

/** Checks an untyped value (e.g. parsed JSON) and returns it as a Grammar. */
export function grammarFromJson(value: unknown): Grammar {
  const g = value as Grammar;
  if (typeof g !== "object" || g === null) throw new Error("grammar JSON must be an object");
  for (const key of ["name", "levels", "terminals", "start", "rules"] as const) {
    if (!(key in g)) throw new Error(`grammar JSON is missing "${key}"`);
  }
  validateGrammar(g);
  return g;
}

/** Stable, diff-friendly JSON text: one non-terminal per line. */
export function formatGrammarJson(g: Grammar): string {
  const rules = Object.entries(g.rules).map(([lhs, alts]) => `    ${JSON.stringify(lhs)}: ${JSON.stringify(alts)}`);
  return [
    "{",
    `  "name": ${JSON.stringify(g.name)},`,
    `  "levels": ${g.levels},`,
    `  "terminals": ${JSON.stringify(g.terminals)},`,
    `  "start": ${JSON.stringify(g.start)},`,
    `  "rules": {\n${rules.join(",\n")}\n  }`,
    "}",
    "",
  ].join("\n");
}

/** A node of a derivation tree: a terminal leaf has no children. */
export interface Derivation {
  symbol: string;
  children: Derivation[];
}

/** Samples a terminal string, each non-terminal choosing uniformly among its alternatives. */
export function sampleSequence(g: Grammar, rng: Rng): string[] {
  ensureValid(g);
  const out: string[] = [];
  // Explicit stack, expanded left to right in pre-order: the same RNG draws as sampleDerivation.
  const stack = [g.start];
  while (stack.length > 0) {
    const sym = stack.pop()!;
    const alts = g.rules[sym];
    if (alts === undefined) { out.push(sym); continue; }
    const rhs = alts[rng.int(alts.length)];
    for (let i = rhs.length - 1; i >= 0; i--) stack.push(rhs[i]);
  }
  return out;
}

/** Samples a full derivation tree; its leaves equal sampleSequence's output for the same RNG state. */
export function sampleDerivation(g: Grammar, rng: Rng): Derivation {
  ensureValid(g);
  const expand = (symbol: string): Derivation => {
    const alts = g.rules[symbol];
    if (alts === undefined) return { symbol, children: [] };
    return { symbol, children: alts[rng.int(alts.length)].map(expand) };
  };
  return expand(g.start);
}

/** The terminal string at the leaves of a derivation tree. */
export function derivationLeaves(tree: Derivation): string[] {
  return tree.children.length === 0 ? [tree.symbol] : tree.children.flatMap(derivationLeaves);
}

/** Exact [shortest, longest] sentence length in terminals. */
export function lengthRange(g: Grammar): [number, number] {
  ensureValid(g);
  const memo = new Map<string, [number, number]>();
  const range = (sym: string): [number, number] => {
    if (!Object.hasOwn(g.rules, sym)) return [1, 1];
    let r = memo.get(sym);
    if (r) return r;
    const per = g.rules[sym].map((rhs) => rhs.map(range).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]));
    r = [Math.min(...per.map((p) => p[0])), Math.max(...per.map((p) => p[1]))];
    memo.set(sym, r);
    return r;
  };
  return range(g.start);
}

/** Expected sentence length under uniform choice of alternatives. */
export function expectedLength(g: Grammar): number {
  ensureValid(g);
  const memo = new Map<string, number>();
  const mean = (sym: string): number => {
    if (!Object.hasOwn(g.rules, sym)) return 1;
    let m = memo.get(sym);
    if (m === undefined) {
      const alts = g.rules[sym];
      m = alts.reduce((acc, rhs) => acc + rhs.reduce((s, x) => s + mean(x), 0), 0) / alts.length;
      memo.set(sym, m);
    }
    return m;
  };
  return mean(g.start);
}

const validated = new WeakSet<Grammar>();

/** Validates once per grammar object: sampling is hot, and grammars are treated as immutable. */
export function ensureValid(g: Grammar): void {
  if (validated.has(g)) return;
  validateGrammar(g);
  validated.add(g);
}
