// Span dropout of the tree route's teacher-forced branch inputs: only those inputs are hidden,
// targets never change, the rate is the one asked for, and a batch depends only on its data
// position and seed (so a resumed run sees the batches an uninterrupted one would).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { batchAt } from "../src/data/dataset.js";
import { generateSplit, TREE_PAD_ID } from "../src/data/tree.js";
import { treeDataset } from "../src/experiments/tree.js";

const trees = generateSplit("train", 200, { seed: 3, depth: 4, alphabetSize: 15 });
const seq = trees[0].tokens.length - 1;
const start = trees[0].routeStart;

describe("route dropout", () => {
  test("hides only the branch inputs, at the rate asked, and leaves the targets alone", () => {
    const plain = batchAt(treeDataset(trees), 0, 200, seq, 7, "answer");
    const dropped = batchAt(treeDataset(trees, 0.5), 0, 200, seq, 7, "answer");
    assert.deepEqual(dropped.targets, plain.targets);
    let hidden = 0;
    for (let i = 0; i < plain.inputs.length; i++) {
      if (dropped.inputs[i] === plain.inputs[i]) continue;
      const t = i % seq;
      assert.ok(t === start + 1 || t === start + 2, `input ${t} of a row was hidden, outside the branch tokens`);
      assert.equal(dropped.inputs[i], TREE_PAD_ID);
      hidden++;
    }
    // 400 branch inputs at p = 0.5: 200 expected, 160..240 is about four standard deviations.
    assert.ok(hidden >= 160 && hidden <= 240, `${hidden} of 400 branch inputs hidden`);
  });

  test("a batch is a function of its position and seed", () => {
    const data = treeDataset(trees, 0.5);
    const later = batchAt(data, 64, 32, seq, 7, "answer").inputs;
    batchAt(data, 0, 64, seq, 7, "answer");
    assert.deepEqual(batchAt(data, 64, 32, seq, 7, "answer").inputs, later);
  });

  test("no dropout gives the plain batches", () => {
    assert.deepEqual(batchAt(treeDataset(trees, 0), 0, 50, seq, 7, "all").inputs, batchAt(treeDataset(trees), 0, 50, seq, 7, "all").inputs);
  });
});
