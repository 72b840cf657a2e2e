// The coupled model's continuation after a forced wrong first branch is sorted by how it relates
// to the tree: following the wrong subtree, jumping back to the correct route, reaching the target.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.js";
import { generateTree, parseTree } from "../src/data/tree.js";
import { afterWrongBranch } from "../src/experiments/tree-containment.js";

const ex = generateTree(new Rng(7), { depth: 4 });
const children = parseTree(ex.text).children;
const wrong = ex.siblings[0][1];

test("a continuation down the wrong subtree follows the error and cannot reach the target", () => {
  const child = children.get(wrong)![0];
  const leaf = children.get(child)![1];
  assert.deepEqual(afterWrongBranch(ex, [child, leaf]), { follows: true, returns: false, reaches: false });
});

test("a continuation that ignores the forced letter returns to the route and reaches the target", () => {
  assert.deepEqual(afterWrongBranch(ex, [ex.route[2], ex.route[3]]), { follows: false, returns: true, reaches: true });
});

test("a continuation that goes one step down the wrong subtree and then copies the target follows the error", () => {
  const child = children.get(wrong)![0];
  assert.deepEqual(afterWrongBranch(ex, [child, ex.route[3]]), { follows: true, returns: false, reaches: true });
});

test("a continuation that leaves the tree is neither", () => {
  const grandchild = children.get(children.get(wrong)![0])![0];
  assert.deepEqual(afterWrongBranch(ex, [grandchild, ex.route[3]]), { follows: false, returns: false, reaches: true });
});
