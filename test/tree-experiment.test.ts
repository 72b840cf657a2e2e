// The tree-search pipeline end to end at a toy size: every phase runs, the report and figures
// are written, error containment holds, and a second run resumes from the checkpoints.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { TREE_PRESETS, type TreePreset } from "../src/experiments/tree-config.js";
import { runTreeExperiment } from "../src/experiments/tree.js";
import { headline, writeTreeReport } from "../src/experiments/tree-report.js";
import { MODEL_PRESETS, TALKER_PRESETS } from "../src/model/presets.js";

const TOY: TreePreset = {
  ...TREE_PRESETS.quick,
  name: "toy",
  trees: { train: 400, val: 30, test: 60 },
  reasoner: { ...MODEL_PRESETS.tiny },
  talker: { ...TALKER_PRESETS.tiny },
  batch: 16,
  pretrain: { steps: 30, lr: 3e-3, warmup: 5 },
  sst: { steps: 20, lr: 1e-3, warmup: 5, k: 4, momentum: 0.98 },
  talkerTraining: { steps: 20, lr: 3e-3, warmup: 5, latents: "rollout" },
  baseline: { steps: 20, lr: 1e-3, warmup: 5 },
  kSweep: { ks: [1, 4], steps: 10, evalEvery: 5, evalTrees: 20 },
  evalEvery: 10,
};

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

  // Every phase is complete, so a second run only reloads the checkpoints: same numbers.
  const second = runTreeExperiment(engine, { preset: TOY, seed: 3, outDir: dir, kSweep: false, log: () => undefined });
  assert.deepEqual(headline({ ...second, kSweep: null, seconds: {} }), headline({ ...first, kSweep: null, seconds: {} }));
});
