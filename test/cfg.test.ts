// CFG data: grammar generation and committed presets, sampling, the Earley recogniser, token noise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Rng } from "../src/engine/rng.js";
import {
  derivationLeaves, expectedLength, formatGrammarJson, generateGrammar, GRAMMAR_PRESETS, grammarFromJson,
  lengthRange, sampleDerivation, sampleSequence, validateGrammar, type Grammar, type GrammarPresetName,
} from "../src/data/cfg-grammar.js";
import { completes, EarleyParser, isDerivable, isValidPrefix, nextTerminals } from "../src/data/cfg-parser.js";
import { corruptTokens } from "../src/data/token-noise.js";

const NOISE_LEVELS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3];

function committedText(name: GrammarPresetName): string {
  return readFileSync(new URL(`../../data/cfg/${name}.json`, import.meta.url), "utf8");
}

const CPU = grammarFromJson(JSON.parse(committedText("cpu")));
const PAPER = grammarFromJson(JSON.parse(committedText("paper")));

function samples(g: Grammar, n: number, seed: number): string[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleSequence(g, rng));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Independent span-DP recogniser used to cross-check Earley on short strings. */
function naiveDerivable(g: Grammar, s: readonly string[]): boolean {
  const memo = new Map<string, boolean>();
  const cached = (key: string, f: () => boolean): boolean => {
    if (!memo.has(key)) memo.set(key, f());
    return memo.get(key)!;
  };
  const bounds = new Map<string, [number, number]>();
  const span = (sym: string): [number, number] => {
    if (!Object.hasOwn(g.rules, sym)) return [1, 1];
    if (!bounds.has(sym)) {
      const per = g.rules[sym].map((rhs) => rhs.map(span).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]));
      bounds.set(sym, [Math.min(...per.map((x) => x[0])), Math.max(...per.map((x) => x[1]))]);
    }
    return bounds.get(sym)!;
  };
  const derives = (sym: string, i: number, j: number): boolean => {
    if (!Object.hasOwn(g.rules, sym)) return j - i === 1 && s[i] === sym;
    // Length bounds only prune work; they cannot change the answer.
    if (j - i < span(sym)[0] || j - i > span(sym)[1]) return false;
    return cached(`${sym}|${i}|${j}`, () => g.rules[sym].some((_, a) => splits(sym, a, 0, i, j)));
  };
  // Whether symbols k.. of alternative a of sym derive s[i..j); memoised so the DP stays polynomial.
  const splits = (sym: string, a: number, k: number, i: number, j: number): boolean => {
    const rhs = g.rules[sym][a];
    if (k === rhs.length) return i === j;
    return cached(`${sym}|${a}|${k}|${i}|${j}`, () => {
      for (let m = i + 1; m <= j - (rhs.length - k - 1); m++) if (derives(rhs[k], i, m) && splits(sym, a, k + 1, m, j)) return true;
      return false;
    });
  };
  return derives(g.start, 0, s.length);
}

test("committed grammars equal what the generator gives for their presets", () => {
  for (const name of Object.keys(GRAMMAR_PRESETS) as GrammarPresetName[]) {
    const regenerated = generateGrammar(GRAMMAR_PRESETS[name]);
    assert.equal(formatGrammarJson(regenerated), committedText(name), `data/cfg/${name}.json is stale: run node scripts/make-grammars.mjs`);
    assert.deepEqual(JSON.parse(committedText(name)), regenerated);
  }
});

test("grammar generation is deterministic per seed and levelled", () => {
  const a = generateGrammar({ seed: 11 }), b = generateGrammar({ seed: 11 }), c = generateGrammar({ seed: 12 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.rules, c.rules);
  assert.equal(a.levels, 5);
  assert.deepEqual(a.terminals, ["1", "2", "3"]);
  for (const [lhs, alts] of Object.entries(a.rules)) {
    const level = Number(lhs.slice(1, lhs.indexOf("_")));
    assert.ok(alts.length >= 2 && alts.length <= 3, `${lhs} has ${alts.length} alternatives`);
    for (const rhs of alts) {
      assert.ok(rhs.length >= 3 && rhs.length <= 4);
      for (const sym of rhs) assert.ok(level === 5 ? a.terminals.includes(sym) : sym.startsWith(`N${level + 1}_`), `${lhs} -> ${sym} skips a level`);
    }
  }
});

test("preset sequence lengths: paper typically 600-700 terminals, cpu 60-120", (t) => {
  for (const [g, lo, hi] of [[PAPER, 600, 700], [CPU, 60, 120]] as const) {
    const lens = samples(g, 1000, 1).map((s) => s.length);
    const [min, max] = lengthRange(g);
    assert.ok(lens.every((n) => n >= min && n <= max));
    const med = median(lens);
    t.diagnostic(`${g.name}: min ${Math.min(...lens)} median ${med} max ${Math.max(...lens)} (possible ${min}..${max}, expected ${expectedLength(g).toFixed(1)})`);
    assert.ok(med >= lo && med <= hi, `${g.name} median ${med} outside [${lo}, ${hi}]`);
  }
  assert.ok(lengthRange(PAPER)[1] <= 1024, "paper strings must fit the paper's 1024-token context");
});

test("sampling is deterministic per seed and matches the derivation tree", () => {
  assert.deepEqual(samples(CPU, 5, 3), samples(CPU, 5, 3));
  assert.notDeepEqual(samples(CPU, 5, 3), samples(CPU, 5, 4));
  const tree = sampleDerivation(PAPER, new Rng(8));
  assert.deepEqual(derivationLeaves(tree), sampleSequence(PAPER, new Rng(8)));
  assert.equal(tree.symbol, PAPER.start);
});

test("generated sequences are derivable (cpu: 3 seeds x 100, paper: 3)", () => {
  for (const seed of [1, 2, 3]) for (const s of samples(CPU, 100, seed)) assert.ok(isDerivable(CPU, s), s.join(" "));
  for (const s of samples(PAPER, 3, 5)) assert.ok(isDerivable(PAPER, s));
  const other = generateGrammar({ ...GRAMMAR_PRESETS.cpu, seed: 77 });
  for (const s of samples(other, 20, 6)) assert.ok(isDerivable(other, s));
});

test("Earley agrees with a naive span-DP recogniser on mutated cpu strings", () => {
  const rng = new Rng(21);
  let accepted = 0;
  for (const s of samples(CPU, 40, 22)) {
    for (let k = 0; k < 5; k++) {
      const m = s.slice();
      m[rng.int(m.length)] = CPU.terminals[rng.int(3)];
      if (k === 4) m.splice(rng.int(m.length), 1);
      const want = naiveDerivable(CPU, m);
      accepted += want ? 1 : 0;
      assert.equal(isDerivable(CPU, m), want, m.join(" "));
    }
  }
  assert.ok(accepted > 40, "the mutations should include some sentences, or this test checks only rejection");
});

test("token-noise corrupted sequences are mostly rejected", (t) => {
  for (const [g, n] of [[CPU, 200], [PAPER, 10]] as const) {
    const rng = new Rng(31);
    const clean = samples(g, n, 30);
    const rates = NOISE_LEVELS.map((p) => clean.filter((s) => !isDerivable(g, corruptTokens(s, p, g.terminals, rng).tokens)).length / n);
    t.diagnostic(`${g.name} rejection rate at p = ${NOISE_LEVELS.join("/")}: ${rates.map((r) => r.toFixed(3)).join("/")}`);
    for (const r of rates) assert.ok(r >= 0.9, `rejection rate ${r} too low`);
  }
});

test("every prefix of a sentence is a valid prefix; nextTerminals always contains the true next token", () => {
  for (const s of samples(CPU, 30, 40)) {
    const parser = new EarleyParser(CPU);
    for (let k = 0; k < s.length; k++) {
      assert.ok(parser.nextTerminals().includes(s[k]));
      assert.ok(parser.feed(s[k]), `prefix of length ${k + 1} rejected`);
    }
    assert.ok(parser.accepts());
    assert.ok(isValidPrefix(CPU, s.slice(0, Math.floor(s.length / 2))));
  }
  assert.ok(isValidPrefix(CPU, []));
  assert.deepEqual(nextTerminals(CPU, ["9"]), []);
});

test("a prefix with an injected impossible token is rejected", () => {
  let found = 0;
  for (const s of samples(CPU, 10, 50)) {
    for (let k = 0; k < s.length; k++) {
      for (const bad of CPU.terminals.filter((x) => x !== s[k])) {
        const prefix = [...s.slice(0, k), bad];
        if (isValidPrefix(CPU, prefix)) continue;
        found++;
        assert.ok(!nextTerminals(CPU, s.slice(0, k)).includes(bad));
        assert.ok(!isValidPrefix(CPU, [...prefix, ...s.slice(k + 1)]), "no continuation can rescue a dead prefix");
      }
    }
  }
  assert.ok(found > 0, "no impossible token found");
  assert.ok(!isValidPrefix(CPU, ["1", "x"]), "an unknown terminal is never valid");
});

test("completes accepts held-out continuations and rejects broken ones", () => {
  const [s, other] = samples(PAPER, 2, 60);
  const k = 300;
  assert.ok(completes(PAPER, s.slice(0, k), s.slice(k, k + 8)));
  assert.ok(completes(PAPER, s.slice(0, k), s.slice(k), { full: true }));
  assert.ok(!completes(PAPER, s.slice(0, k), s.slice(k, -1), { full: true }) || isDerivable(PAPER, s.slice(0, -1)));
  assert.ok(!completes(CPU, ["1"], ["x"]));
  const cont = s.slice(k, k + 12);
  let rejected = 0;
  for (let i = 0; i < cont.length; i++) {
    for (const bad of PAPER.terminals.filter((x) => x !== cont[i])) {
      const broken = [...cont.slice(0, i), bad, ...cont.slice(i + 1)];
      const ok = completes(PAPER, s.slice(0, k), broken);
      assert.equal(ok, isValidPrefix(PAPER, [...s.slice(0, k), ...broken]));
      rejected += ok ? 0 : 1;
    }
  }
  assert.ok(rejected > 0, "some single-token edit of the continuation should be impossible");
  assert.ok(completes(PAPER, other.slice(0, 5), other.slice(5, 40)));
});

test("rewind gives the same answers as a fresh parse", () => {
  const [a, b] = samples(CPU, 2, 70);
  const parser = new EarleyParser(CPU);
  parser.feedAll(a.slice(0, 20));
  for (const cont of [a.slice(20), b.slice(20), a.slice(20, 25)]) {
    const ok = parser.feedAll(cont);
    assert.equal(ok, isValidPrefix(CPU, [...a.slice(0, 20), ...cont]));
    assert.equal(ok && parser.accepts(), isDerivable(CPU, [...a.slice(0, 20), ...cont]));
    parser.rewind(20);
    assert.equal(parser.length, 20);
  }
  parser.reset();
  assert.equal(parser.length, 0);
  assert.throws(() => parser.rewind(1), /outside/);
});

test("validateGrammar names the problem in broken grammars", () => {
  const ok: Grammar = { name: "g", levels: 2, terminals: ["a", "b"], start: "S", rules: { S: [["A", "A"]], A: [["a"], ["b", "a"]] } };
  validateGrammar(ok);
  const broken = (patch: Partial<Grammar>) => ({ ...ok, ...patch }) as Grammar;
  const cases: [Grammar, RegExp][] = [
    [broken({ rules: { S: [["A", "Z"]], A: [["a"]] } }), /unknown symbol "Z"/],
    [broken({ rules: { S: [["A"]], A: [] } }), /rule "A": needs at least one alternative/],
    [broken({ rules: { S: [["A"]], A: [[]] } }), /empty right-hand side/],
    [broken({ rules: { S: [["A"]], A: [["a", "S"]] } }), /cycle S -> A -> S|cycle A -> S -> A/],
    [broken({ start: "Q" }), /start symbol "Q" has no rules/],
    [broken({ rules: { ...ok.rules, B: [["a"]] } }), /unreachable from "S": B/],
    [broken({ levels: 3 }), /levels is 3 but the longest derivation .* has 2/],
    [broken({ terminals: ["a", "a", "b"] }), /duplicate terminal/],
    [broken({ rules: { ...ok.rules, a: [["b"]] } }), /rule "a": a terminal cannot have rules/],
  ];
  for (const [g, message] of cases) assert.throws(() => validateGrammar(g), message);
  assert.throws(() => grammarFromJson({ name: "x" }), /missing "levels"/);
  assert.throws(() => sampleSequence(cases[0][0], new Rng(1)), /unknown symbol/);
  assert.throws(() => generateGrammar({ levels: 3, symbolsPerLevel: [2, 3, 3] }), /root level/);
  assert.throws(() => generateGrammar({ rhsLength: [4, 3] }), /rhsLength/);
  assert.throws(() => generateGrammar({ rhsLengthWeights: [1] }), /rhsLengthWeights needs 2/);
});

test("corruptTokens changes exactly round(p*n) positions to different symbols, deterministically", () => {
  const [s] = samples(CPU, 1, 80);
  for (const p of [0, ...NOISE_LEVELS, 1]) {
    const { tokens, positions } = corruptTokens(s, p, CPU.terminals, new Rng(81));
    assert.equal(positions.length, Math.round(p * s.length));
    assert.equal(new Set(positions).size, positions.length);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    const changed = tokens.flatMap((tok, i) => (tok !== s[i] ? [i] : []));
    assert.deepEqual(changed, positions);
    assert.ok(tokens.every((tok) => CPU.terminals.includes(tok)));
    assert.deepEqual(corruptTokens(s, p, CPU.terminals, new Rng(81)), { tokens, positions });
  }
  const ids = [14, 15, 16, 14, 16, 15, 15, 14, 16, 16];
  const r = corruptTokens(ids, 0.3, [14, 15, 16], new Rng(1));
  assert.equal(r.positions.length, 3);
  for (const i of r.positions) assert.notEqual(r.tokens[i], ids[i]);
  assert.throws(() => corruptTokens(s, 1.5, CPU.terminals, new Rng(1)), /p must be in \[0, 1\]/);
  assert.throws(() => corruptTokens(s, Number.NaN, CPU.terminals, new Rng(1)), /p must be in/);
  assert.throws(() => corruptTokens(["1", "<eos>"], 0.5, CPU.terminals, new Rng(1)), /"<eos>" at position 1 is not in the alphabet/);
  assert.throws(() => corruptTokens(["1"], 0.5, ["1"], new Rng(1)), /at least 2 distinct/);
});
