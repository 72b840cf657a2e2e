// The CFG experiment: its noise definitions, its scoring, its data, and the tiny preset end to
// end through the command line (report, metrics.json, --json, resume, one-line errors).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/engine/rng.js";
import { CFG_PRESETS, TOKEN_NOISE_LEVELS } from "../src/experiments/cfg-config.js";
import { CFG_BOS, cfgSplits, cfgVocab, loadGrammar, type Completion } from "../src/experiments/cfg-data.js";
import { latentNoise, noiseRng, noisyPrompts } from "../src/experiments/cfg-noise.js";
import { PrefixParsers, scoreCompletions } from "../src/experiments/cfg-score.js";
import { answerSpan } from "../src/train/talker-phase.js";

const TINY = CFG_PRESETS.tiny;
const grammar = loadGrammar("cpu");
const vocab = cfgVocab(grammar);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "jepa-cfg-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("data", () => {
  test("completions share one answer start, and no test completion occurs in training", () => {
    const s = cfgSplits(grammar, vocab, TINY, 5);
    assert.deepEqual(answerSpan(s.train), { start: TINY.prefix + 1, length: TINY.answer });
    assert.deepEqual(answerSpan(s.val), { start: TINY.prefix + 1, length: TINY.answer });
    assert.equal(s.test.length, TINY.sentences.test);
    const train = new Set(s.train.examples.map((e) => e.tokens.join(",")));
    for (const c of s.test) {
      assert.equal(c.prompt[0], CFG_BOS);
      assert.ok(!train.has([...c.prompt, ...c.answer].join(",")));
    }
    assert.ok(s.pretrain.examples.every((e) => e.tokens.length <= TINY.pretrainLength && e.tokens[0] === CFG_BOS));
  });
});

describe("presets", () => {
  test("paper uses Table 3's widths, a 16-block Reasoner and a 4 + 4 Dual-Talker; every preset's R is cut from its T", () => {
    const p = CFG_PRESETS.paper;
    assert.deepEqual([p.transformer.dModel, p.transformer.attnDim, p.transformer.mlpDim, p.transformer.heads], [960, 960, 3840, 16]);
    assert.equal(p.reasonerBlocks, 16);
    assert.deepEqual([p.talker.encoderLayers, p.talker.layers, p.talker.dModel], [4, 4, 960]);
    for (const q of Object.values(CFG_PRESETS)) {
      assert.ok(q.reasonerBlocks <= q.transformer.layers, q.name);
      assert.equal(q.answer - q.coconutLatents, 4, `${q.name}: C decodes the final four tokens`);
    }
  });
});

describe("noise definitions", () => {
  const tests = cfgSplits(grammar, vocab, TINY, 5).test;

  test("token noise replaces exactly round(p · prefix) prompt terminals by other terminals and never <bos>", () => {
    for (const p of TOKEN_NOISE_LEVELS) {
      const noisy = noisyPrompts(tests, p, vocab.terminals, noiseRng(1, "token", p));
      noisy.forEach((prompt, i) => {
        const clean = tests[i].prompt;
        assert.equal(prompt.length, clean.length);
        assert.equal(prompt[0], CFG_BOS);
        const changed = prompt.filter((t, j) => t !== clean[j]).length;
        assert.equal(changed, Math.round(p * TINY.prefix), `level ${p}`);
        assert.ok(prompt.slice(1).every((t) => vocab.terminals.includes(t)));
      });
    }
  });

  test("every model sees the same corruptions: the stream depends only on seed and level", () => {
    const a = noisyPrompts(tests, 0.2, vocab.terminals, noiseRng(1, "token", 0.2));
    const b = noisyPrompts(tests, 0.2, vocab.terminals, noiseRng(1, "token", 0.2));
    const c = noisyPrompts(tests, 0.2, vocab.terminals, noiseRng(2, "token", 0.2));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test("latent noise is relative to each latent's largest element, and off at σ = 0", () => {
    assert.equal(latentNoise(0, new Rng(1)), null);
    assert.deepEqual({ ...latentNoise(0.1, new Rng(1))!, rng: null }, { scale: 0.1, relativeToMax: true, rng: null });
    assert.throws(() => latentNoise(-0.1, new Rng(1)), /must be >= 0/);
  });
});

describe("scoring", () => {
  const s = cfgSplits(grammar, vocab, TINY, 5);
  const tests: Completion[] = s.test.slice(0, 10);
  const parsers = new PrefixParsers(grammar, vocab, tests);

  test("the truth is accurate and grammatical at every step", () => {
    const r = scoreCompletions(tests, tests.map((t) => t.answer), 0, 4, parsers);
    assert.deepEqual(r.accuracy, new Array(8).fill(1));
    assert.deepEqual(r.valid, new Array(8).fill(1));
    assert.equal(r.exactTail, 1);
    assert.equal(r.validTail, 1);
  });

  test("special tokens are never grammatical, and tail-only outputs are scored on the tail", () => {
    const eos = tests.map(() => new Array(8).fill(2));
    const r = scoreCompletions(tests, eos, 0, 4, parsers);
    assert.deepEqual(r.valid, new Array(8).fill(0));
    assert.equal(r.validTail, 0);
    const tail = scoreCompletions(tests, tests.map((t) => t.answer.slice(4)), 4, 4, parsers);
    assert.deepEqual(tail.accuracy.slice(0, 4), [null, null, null, null]);
    assert.deepEqual(tail.accuracy.slice(4), [1, 1, 1, 1]);
    assert.deepEqual(tail.valid, new Array(8).fill(null));
    assert.equal(tail.exactTail, 1);
    assert.equal(tail.validTail, 1, "the true middle makes the true tail valid");
  });

  test("validity counts the longest viable run of tokens", () => {
    // The first token is the truth; what follows is an end token, which no sentence has there.
    const outputs = tests.map((t) => [t.answer[0], 2, ...t.answer.slice(2)]);
    const r = scoreCompletions(tests, outputs, 0, 4, parsers);
    assert.deepEqual(r.valid, [1, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(r.accuracy, [1, 0, 1, 1, 1, 1, 1, 1]);
  });
});

describe("jepa cfg on the command line", () => {
  const bin = new URL("../../bin/jepa.js", import.meta.url).pathname;
  const run = (args: string[]) => spawnSync(process.execPath, [bin, "cfg", ...args], { encoding: "utf8" });

  test("the tiny preset runs end to end, writes its report, and a second run resumes to the same numbers", () => {
    const out = join(dir, "tiny");
    const args = ["--preset", "tiny", "--out", out, "--threads", "1", "--json"];
    const first = run(args);
    assert.equal(first.status, 0, first.stderr);
    const h = JSON.parse(first.stdout.trim().split("\n").pop()!);
    for (const key of ["t_accuracy_clean", "r_accuracy_clean", "t_normalised_p30", "r_normalised_p30", "r_exact_final4", "c_exact_final4", "r_valid8_clean", "c_valid_final4_clean"]) {
      assert.ok(key in h, `--json lacks ${key}`);
    }
    assert.equal(h.r_exact_final4.length, 4);
    for (const file of ["report.md", "metrics.json", "fig3-token-noise.svg", "latent-noise.svg", "grammaticality.svg", "eval-C.json", "pretrain/state.json", "talker/model.safetensors", "coconut/state.json"]) {
      assert.ok(existsSync(join(out, file)), `${file} is missing`);
    }
    const report = readFileSync(join(out, "report.md"), "utf8");
    assert.match(report, /0\.9230/, "Table 7's numbers stand beside ours");
    assert.match(report, /0\.4588/, "Table 4's numbers stand beside ours");
    assert.match(report, /Generation step s/, "the report defines a generation step");
    assert.match(report, /continuous steps/, "the report states C's recipe");
    assert.match(first.stderr, /pretrain step 20\/20/, "progress lines are printed");
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    assert.equal(metrics.headline.test_prompts, TINY.sentences.test);
    assert.equal(metrics.eval.T.tokenNoise.length, TOKEN_NOISE_LEVELS.length);

    const second = run(args);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /resuming from step 20/);
    assert.match(second.stderr, /reusing .*eval-R\.json/);
    const h2 = JSON.parse(second.stdout.trim().split("\n").pop()!);
    assert.deepEqual({ ...h2, seconds: 0 }, { ...h, seconds: 0 });

    // Other settings do not resume stages trained with these: one line names the flag.
    for (const [extra, flag] of [[["--seed", "2"], "--seed"], [["--test-samples", "7"], "--test-samples"], [["--max-steps", "5"], "--max-steps"]] as const) {
      const other = run([...args, ...extra]);
      assert.notEqual(other.status, 0);
      assert.equal(other.stderr.trim().split("\n").length, 1, other.stderr);
      assert.match(other.stderr, new RegExp(`holds stages trained with other settings: ${flag} differs`));
    }
  });

  test("bad flags get one error line, a non-zero exit, and nothing written", () => {
    for (const [args, message] of [
      [["--preset", "huge"], /unknown cfg preset 'huge'/],
      [["--seed", "1.5"], /--seed must be an integer from 0/],
      [["--max-steps", "0"], /--max-steps must be an integer from 1/],
      [["--memory", "9000"], /--memory must be an integer from 256 to 4096/],
      [["--bogus"], /Unknown option '--bogus'/],
    ] as const) {
      const bad = run([...args, "--out", join(dir, "bad")]);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, message);
      assert.equal(bad.stderr.trim().split("\n").length, 1, "one error line");
      assert.ok(!existsSync(join(dir, "bad")), "nothing written");
    }
  });
});
