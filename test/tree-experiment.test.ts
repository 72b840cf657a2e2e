// The tree-search pipeline end to end at a toy size: every phase runs, the report and figures
// are written, error containment holds, the generalisation figures are reported, and a second
// run resumes from the checkpoints without scoring anything it finished again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { TREE_PRESETS } from "../src/experiments/tree-config.js";
import { runTreeExperiment } from "../src/experiments/tree.js";
import { headline, writeTreeReport } from "../src/experiments/tree-report.js";

const TOY = TREE_PRESETS.tiny;

let engine: Engine;
let dir: string;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 512 });
  dir = mkdtempSync(join(tmpdir(), "jepa-tree-"));
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the whole pipeline runs, writes its report, and resumes to the same result", () => {
  const lines: string[] = [];
  const first = runTreeExperiment(engine, { preset: TOY, seed: 3, outDir: dir, kSweep: true, log: (l) => lines.push(l) });
  writeTreeReport(first, dir, "test");
  for (const file of ["report.md", "metrics.json", "pca.svg", "per-position.svg", "k-sweep.svg", "pretrain/state.json", "sst/ema.safetensors", "talker/model.safetensors", "baseline/state.json", "k-sweep/k4/state.json"]) {
    assert.ok(existsSync(join(dir, file)), `${file} is missing`);
  }
  const report = readFileSync(join(dir, "report.md"), "utf8");
  assert.match(report, /99\.87 %/, "the report sets our numbers beside the paper's");
  assert.match(report, /EMA target embedding/, "the report states which embedding the analysis uses");
  assert.equal(first.containment.identicalChains, first.containment.trees, "a corrupted Talker output changed the chain");
  assert.ok(first.containment.identicalAnalysis);
  assert.equal(first.reasoner.count, 60);
  assert.equal(first.mixed[0].overall.count, 60 * 3, "three branching steps per depth-4 tree");
  assert.ok(lines.some((l) => /pretrain step 30\/30/.test(l)), "progress lines are printed");
  const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
  assert.equal(metrics.headline.test_trees, 60);
  // Generalisation: both models on fresh trees, shuffled and in level order, in the report and metrics.json.
  const g = first.generalisation;
  assert.equal(g.count, 60);
  for (const set of [g.shuffled, g.fresh]) {
    assert.equal(set.reasoner.count, 60);
    assert.equal(set.coupled?.perPosition.length, 4);
  }
  assert.match(report, /## Generalisation[\s\S]*fresh, edges in random order \(60\)[\s\S]*fresh, edges in level order as in training \(60\)/);
  assert.deepEqual(metrics.generalisation, JSON.parse(JSON.stringify(g)));
  assert.equal(metrics.headline.fresh_reasoner_exact, g.fresh.reasoner.exact);

  // Every phase is complete, so a second run only reloads the checkpoints: same numbers, and the
  // generalisation figures are read back, not scored again.
  const resumed: string[] = [];
  const second = runTreeExperiment(engine, { preset: TOY, seed: 3, outDir: dir, kSweep: false, log: (l) => resumed.push(l) });
  assert.deepEqual(headline({ ...second, kSweep: null, seconds: {} }), headline({ ...first, kSweep: null, seconds: {} }));
  // Times add up over invocations: the resumed run reports the first run's pretraining time, not the reload's.
  assert.ok(second.seconds.pretrain >= first.seconds.pretrain && first.seconds.pretrain > 0);
  assert.ok(second.seconds.k_sweep >= first.seconds.k_sweep, "a stage the second run skipped keeps its time");
  assert.deepEqual(second.generalisation, first.generalisation);
  assert.ok(resumed.some((l) => /generalisation: scored before/.test(l)), "the finished generalisation stage ran again");
  assert.ok(!resumed.some((l) => /generalisation: \d+ fresh trees/.test(l)));
  // The cache is keyed by the checkpoints: once the Talker's save differs, the stage scores again.
  const cache = join(dir, "generalisation.json");
  const saved = JSON.parse(readFileSync(cache, "utf8"));
  writeFileSync(cache, JSON.stringify({ ...saved, key: saved.key.replace(/"checkpoints":\["[0-9a-f]/, '"checkpoints":["x') }));
  const again: string[] = [];
  const third = runTreeExperiment(engine, { preset: TOY, seed: 3, outDir: dir, kSweep: false, log: (l) => again.push(l) });
  assert.ok(again.some((l) => /generalisation: 60 fresh trees/.test(l)), "a stale cache was trusted");
  assert.deepEqual(third.generalisation, first.generalisation);
});

test("jepa tree on the command line: --json headline, report, and clear errors", () => {
  const bin = new URL("../../bin/jepa.js", import.meta.url).pathname;
  const out = join(dir, "cli");
  const run = spawnSync(process.execPath, [bin, "tree", "--preset", "tiny", "--out", out, "--threads", "1", "--memory", "512", "--no-k-sweep", "--json"], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const last = JSON.parse(run.stdout.trim().split("\n").pop()!);
  for (const key of ["reasoner_exact", "coupled_exact", "fresh_reasoner_exact", "shuffled_reasoner_exact", "plane_rank_percent", "correct_major", "containment_identical"]) assert.ok(key in last, `--json lacks ${key}`);
  assert.ok(existsSync(join(out, "report.md")));
  // A warm restart adds its steps to pretraining and shows in the report's schedule.
  const restarted = join(dir, "cli-restart");
  const withRestart = spawnSync(process.execPath, [bin, "tree", "--preset", "tiny", "--out", restarted, "--threads", "1", "--memory", "512", "--no-k-sweep", "--pretrain-restarts", "10@1e-3"], { encoding: "utf8" });
  assert.equal(withRestart.status, 0, withRestart.stderr);
  assert.match(withRestart.stderr, /pretrain step 40\/40/);
  assert.match(readFileSync(join(restarted, "report.md"), "utf8"), /\| 30 \+ 10 \| 0\.003, then 0\.001 \|/);
  for (const [args, message] of [
    [["--preset", "huge"], /unknown tree preset 'huge'/],
    [["--depth", "9"], /--depth must be an integer from 2 to 4/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--pretrain-restarts", "3000@2"], /--pretrain-restarts must be none or STEPS@LR.*got '3000@2'/],
    [["--pretrain-restarts", "1e-3@3000"], /--pretrain-restarts must be none or STEPS@LR/],
  ] as const) {
    const bad = spawnSync(process.execPath, [bin, "tree", ...args, "--out", join(dir, "bad")], { encoding: "utf8" });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, message);
    assert.equal(bad.stderr.trim().split("\n").length, 1, "one error line");
    assert.ok(!existsSync(join(dir, "bad")), "nothing written");
  }
});
