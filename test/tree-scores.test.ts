// Route scores: exact match, per position, and by the index of the target's edge as written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.js";
import { generateTree, letterId } from "../src/data/tree.js";
import { scoreRoutes } from "../src/experiments/tree-eval.js";

test("scores split exact match by where the target's edge is written", () => {
  const rng = new Rng(11);
  const trees = Array.from({ length: 40 }, () => generateTree(rng, { depth: 3 }));
  // Right on every tree whose target edge comes early, wrong at the last letter otherwise.
  const edgeOf = (i: number) => trees[i].edges.findIndex(([, child]) => child === trees[i].target);
  const predicted = trees.map((ex, i) => ex.route.map((l, p) => letterId(p === ex.route.length - 1 && edgeOf(i) >= 4 ? ex.route[0] : l)));
  const s = scoreRoutes(trees, predicted);
  const edges = [...new Set(trees.map((_, i) => edgeOf(i)))].sort((a, b) => a - b);
  assert.deepEqual(s.byTargetEdge.map((e) => e.edge), edges, "level order puts depth-3 leaves on edges 2 to 5");
  assert.deepEqual(edges, [2, 3, 4, 5]);
  for (const e of s.byTargetEdge) assert.equal(e.exact, e.edge >= 4 ? 0 : 1);
  assert.equal(s.byTargetEdge.reduce((n, e) => n + e.count, 0), 40);
  assert.equal(s.exact, s.byTargetEdge.filter((e) => e.edge < 4).reduce((n, e) => n + e.count, 0) / 40);
  assert.equal(s.perPosition[0], 1);
});
