// `jepa tree eval` on a small finished run: it reproduces the run's own scores on the test split
// and on the fresh trees of the report's Generalisation section, its fresh trees avoid every
// problem of the run's splits, and every bad input is one error line that writes nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeEngine } from "../src/engine/node.js";
import { encodeTree, exampleFromText, generateSplit, TREE_VOCAB, treeKey } from "../src/data/tree.js";
import { TREE_PRESETS, type TreePreset } from "../src/experiments/tree-config.js";
import { runTreeExperiment } from "../src/experiments/tree.js";
import { freshTrees, runDataOf, runKeys, runSplits } from "../src/experiments/tree-generalisation.js";
import { writeTreeReport } from "../src/experiments/tree-report.js";
import { FAST, jepa, jepaFails, jepaOk, snapshot } from "./helpers/jepa-cli.js";

// The tiny preset at depth 3, trained a little longer: its 30 pretraining steps alone predict no
// route letter at all, and scores of zero would match whatever an evaluation got wrong.
const base = TREE_PRESETS.tiny;
const SMALL: TreePreset = {
  ...base, depth: 3,
  pretrain: { ...base.pretrain, steps: 100 }, baseline: { ...base.baseline, steps: 100 },
  sst: { ...base.sst, steps: 100 }, talkerTraining: { ...base.talkerTraining, steps: 100 },
};
const SEED = 3;

let dir: string;
let run: string;
let metrics: {
  reasoner: { perPosition: number[]; exact: number }; coupled: { perPosition: number[]; exact: number };
  generalisation: { count: number; seed: number; fresh: Record<string, { perPosition: number[]; exact: number }>; shuffled: Record<string, { perPosition: number[]; exact: number }> };
};
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "jepa-tree-eval-"));
  run = join(dir, "run");
  const engine = await createNodeEngine({ threads: 1, memoryMB: 512 });
  try {
    writeTreeReport(runTreeExperiment(engine, { preset: SMALL, seed: SEED, outDir: run, kSweep: false, log: () => undefined }), run, "test");
  } finally {
    await engine.close();
  }
  metrics = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const splits = () => runSplits(runDataOf(SMALL, SEED));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!);
const readLines = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const write = (name: string, lines: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => l + "\n").join(""));
  return path;
};

test("--data: the run's test split scores exactly as the run's own evaluation, tree by tree in --out", () => {
  const testSplit = splits().test;
  // Prompts alone and whole problems with their (correct) routes are both accepted.
  const data = write("test-split.jsonl", testSplit.map((ex, i) => JSON.stringify({ text: i % 2 ? ex.text : ex.text.slice(0, ex.text.indexOf("[ROUTE]") + 7) })));
  const out = join(dir, "test-preds.jsonl");
  const got = lastJson(jepaOk(["tree", "eval", "--run", run, "--data", data, "--out", out, "--json", ...FAST]));
  assert.ok(metrics.reasoner.perPosition.some((a) => a > 0), "the run predicts some route letters, so the comparison means something");
  assert.equal(got.trees, testSplit.length);
  assert.equal(got.depth, 3);
  assert.deepEqual(got.reasoner_per_position, metrics.reasoner.perPosition);
  assert.deepEqual(got.coupled_per_position, metrics.coupled.perPosition);
  assert.equal(got.reasoner_exact, metrics.reasoner.exact);
  assert.equal(got.coupled_exact, metrics.coupled.exact);

  const rows = readLines(out);
  assert.equal(rows.length, testSplit.length);
  rows.forEach((row, i) => {
    assert.equal(row.line, i + 1);
    assert.equal(row.text, testSplit[i].text);
    assert.equal(row.route, testSplit[i].route.join(""));
    assert.equal(row.reasoner_exact, row.reasoner === row.route);
  });
  // Per position again from the rows' own routes: they are the predictions the summary scored.
  for (const [model, key] of [["reasoner", "reasoner_per_position"], ["coupled", "coupled_per_position"]] as const) {
    const tokens = rows.map((r) => encodeTree(r[model]).map((id) => TREE_VOCAB[id]));
    assert.deepEqual([0, 1, 2].map((p) => tokens.filter((t, i) => t[p] === rows[i].route[p]).length / rows.length), got[key]);
  }

  // Its own earlier output may be replaced; the same trees give the same file.
  const before = readFileSync(out, "utf8");
  jepaOk(["tree", "eval", "--run", run, "--data", data, "--out", out, ...FAST]);
  assert.equal(readFileSync(out, "utf8"), before);
});

test("fresh trees: the defaults reproduce the report's Generalisation figures, and no tree is a problem of the run", () => {
  const g = metrics.generalisation;
  assert.equal(g.count, SMALL.trees.test);
  const seen = runKeys(splits());
  for (const [flags, set] of [[[], g.fresh], [["--shuffle-edges"], g.shuffled]] as const) {
    const out = join(dir, `fresh${flags.length}.jsonl`);
    const got = lastJson(jepaOk(["tree", "eval", "--run", run, ...flags, "--out", out, "--json", ...FAST]));
    assert.equal(got.trees, g.count);
    assert.deepEqual(got.fresh, { count: g.count, seed: SEED, shuffle_edges: flags.length > 0 });
    assert.deepEqual(got.reasoner_per_position, set.reasoner.perPosition);
    assert.deepEqual(got.coupled_per_position, set.coupled.perPosition);
    const keys = readLines(out).map((r) => treeKey(exampleFromText(r.text)));
    assert.equal(new Set(keys).size, keys.length, "no tree twice");
    assert.equal(keys.filter((k) => seen.has(k)).length, 0, "a fresh tree is a problem of the run's splits");
  }
  const other = lastJson(jepaOk(["tree", "eval", "--run", run, "--count", "20", "--seed", "77", "--json", ...FAST]));
  assert.equal(other.trees, 20);
  assert.deepEqual(other.fresh, { count: 20, seed: 77, shuffle_edges: false });
});

test("fresh trees leave out the run's problems even where they would be drawn (a problem space of 6)", () => {
  // Depth 2 over 3 letters: a root and its two children, 3 roots × 2 targets = 6 problems.
  const small = { seed: 1, depth: 2, alphabetSize: 3, shuffleEdges: false, trees: { train: 3, val: 0, test: 0 } };
  const seen = runKeys(runSplits(small));
  assert.ok(seen.size >= 2 && seen.size < 6);
  const fresh = freshTrees(small, seen, { count: 30, seed: 1, shuffleEdges: true });
  for (const ex of fresh) assert.ok(!seen.has(treeKey(ex)), `fresh tree ${ex.text} is a training problem`);
  assert.equal(new Set(fresh.map(treeKey)).size, 6 - seen.size, "30 draws cover every problem left");
  // Drawn without the exclusion, the same stream does hit training problems.
  const unfiltered = generateSplit("fresh", 30, { seed: 1, depth: 2, alphabetSize: 3, shuffleEdges: true });
  assert.ok(unfiltered.some((ex) => seen.has(treeKey(ex))));
  // A run whose splits hold every problem leaves none fresh: an error, not a silent overlap.
  const all = runKeys(runSplits({ ...small, trees: { train: 200, val: 0, test: 0 } }));
  assert.equal(all.size, 6);
  assert.throws(() => freshTrees(small, all, { count: 1, seed: 1, shuffleEdges: false }), /only 0 of 1/);
});

test("bad trees: one error line naming the file and line, non-zero exit, nothing written", () => {
  const [good, other] = splits().test.map((ex) => JSON.stringify({ text: ex.text }));
  const deep = generateSplit("test", 1, { seed: 1, depth: 4, alphabetSize: 15 })[0].text;
  const wrongRoute = splits().test[0].text.replace(/\[ROUTE\].*$/, "[ROUTE]") + "ABC";
  // A depth-3 tree on letters past O, the run's last.
  const outside = "ZY,ZX,YW,YV,XU,XT[ROOT]Z[TARGET]T[ROUTE]";
  const notUtf8 = join(dir, "latin1.jsonl");
  writeFileSync(notUtf8, Buffer.concat([Buffer.from(good + "\n"), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d, 0x0a])]));
  const cases: Array<[string, string[] | string, RegExp]> = [
    ["malformed.jsonl", [good, "{\"text\": "], /malformed\.jsonl:2: not valid JSON/],
    ["array.jsonl", ["[1, 2]"], /array\.jsonl:1: expected a JSON object/],
    ["no-text.jsonl", [good, other, JSON.stringify({ tree: "NL,NO" })], /no-text\.jsonl:3: needs "text"/],
    ["not-tree.jsonl", [JSON.stringify({ text: "hello world" })], /not-tree\.jsonl:1: the tree text is malformed/],
    ["two-parents.jsonl", [JSON.stringify({ text: "AB,AC,BD,CD[ROOT]A[TARGET]D[ROUTE]" })], /two-parents\.jsonl:1: the tree is not a tree: node D has two parents/],
    ["deep.jsonl", [good, JSON.stringify({ text: deep })], /deep\.jsonl:2: the tree must be a complete binary tree of depth 3/],
    ["alphabet.jsonl", [JSON.stringify({ text: outside })], /alphabet\.jsonl:1: node \w is outside the run's alphabet A–O/],
    ["route.jsonl", [good, JSON.stringify({ text: wrongRoute })], /route\.jsonl:2: the route ABC is wrong/],
    ["empty.jsonl", [], /empty\.jsonl:1: the file is empty/],
    ["blank.jsonl", ["", "  "], /blank\.jsonl:1: the file is empty/],
  ];
  const runBefore = snapshot(run);
  for (const [name, lines, pattern] of cases) {
    const data = write(name, lines as string[]);
    const out = join(dir, `${name}.out`);
    jepaFails(["tree", "eval", "--run", run, "--data", data, "--out", out, ...FAST], pattern);
    assert.ok(!existsSync(out), `${name}: --out was written`);
  }
  jepaFails(["tree", "eval", "--run", run, "--data", notUtf8, ...FAST], /latin1\.jsonl:2: not valid UTF-8/);
  jepaFails(["tree", "eval", "--run", run, "--data", join(dir, "absent.jsonl"), ...FAST], /cannot read .*absent\.jsonl: ENOENT/);
  assert.deepEqual(snapshot(run), runBefore, "the run folder changed");
});

test("bad runs and flags: one clear line, and a user's file is never replaced", () => {
  const data = write("ok.jsonl", [JSON.stringify({ text: splits().test[0].text })]);
  const cfg = join(dir, "cfg-run");
  mkdirSync(cfg);
  writeFileSync(join(cfg, ".jepa-run"), JSON.stringify({ command: "cfg" }) + "\n");
  const junk = join(dir, "junk");
  mkdirSync(junk);
  writeFileSync(join(junk, "notes.txt"), "x");
  const noMetrics = join(dir, "no-metrics");
  cpSync(run, noMetrics, { recursive: true });
  rmSync(join(noMetrics, "metrics.json"));
  const noTalker = join(dir, "no-talker");
  cpSync(run, noTalker, { recursive: true });
  rmSync(join(noTalker, "talker"), { recursive: true });
  for (const [args, pattern] of [
    [["--run", join(dir, "nowhere")], /--run .*nowhere: no such folder/],
    [["--run", data], /is a file, not a tree run's folder/],
    [["--run", cfg], /holds a 'jepa cfg' run, not a 'jepa tree' one/],
    [["--run", junk], /is not a 'jepa tree' run/],
    [["--run", noMetrics], /no-metrics is not a finished tree run: it has no metrics\.json yet/],
    [["--run", noTalker], /no-talker is not a finished tree run: talker\/ holds no checkpoint/],
    [[], /--run is required/],
    [["--run", run, "--data", data, "--count", "5"], /do not apply with --data/],
    [["--run", run, "--count", "0"], /--count must be an integer from 1/],
    [["--run", run, "--data", data, "--out", data], /is the input/],
  ] as const) {
    jepaFails(["tree", "eval", ...args, ...FAST], pattern);
  }
  const mine = write("mine.jsonl", ["{\"a\": 1}"]);
  jepaFails(["tree", "eval", "--run", run, "--data", data, "--out", mine, ...FAST], /mine\.jsonl already exists and is not a file 'jepa tree eval' wrote/);
  assert.equal(readFileSync(mine, "utf8"), "{\"a\": 1}\n");
  const help = jepa(["tree", "eval", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: jepa tree eval --run DIR/);
});
