// Tree-search data: generator validity, paper format, tokenizer, splits and batch targets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.js";
import {
  TREE_END_ID, TREE_LETTER_IDS, TREE_PAD_ID, TREE_VOCAB, decodeTree, encodeTree, exampleFromText, generateSplit,
  generateSplits, generateTree, padBatch, parseTree, treeKey, type TreeExample,
} from "../src/data/tree.js";

const PAPER = "NL,NO,LJ,LI,OA,OM,JB,JH,IG,IF,AD,AE,MK,MC[ROOT]N[TARGET]K[ROUTE]NOMK";

/** Checks that an example's text describes a complete binary tree of its depth and a correct route. */
function assertValidTree(ex: TreeExample): void {
  const tree = parseTree(ex.text);
  const nodes = new Set(tree.edges.flat());
  assert.equal(nodes.size, 2 ** ex.depth - 1, "distinct node names");
  assert.equal(tree.edges.length, nodes.size - 1);
  for (const n of nodes) {
    if (n === tree.root) assert.ok(!tree.parent.has(n), "root has no parent");
    else assert.ok(tree.parent.has(n), `${n} has a parent`);
  }
  assert.equal(tree.children.get(tree.root)?.length, 2, "root has 2 children");
  const depthOf = (n: string): number => (n === tree.root ? 1 : 1 + depthOf(tree.parent.get(n)!));
  for (const n of nodes) {
    const kids = tree.children.get(n) ?? [];
    if (kids.length === 0) assert.equal(depthOf(n), ex.depth, `leaf ${n} at depth ${ex.depth}`);
    else assert.equal(kids.length, 2, `${n} has 2 children`);
  }
  assert.equal(tree.children.get(tree.target), undefined, "target is a leaf");
  assert.equal(tree.route[0], tree.root);
  assert.equal(tree.route[tree.route.length - 1], tree.target);
  for (let i = 1; i < tree.route.length; i++) assert.equal(tree.parent.get(tree.route[i]), tree.route[i - 1], "route follows edges");
  assert.deepEqual(tree.route, ex.route);
  ex.siblings.forEach(([good, other], i) => {
    assert.equal(good, ex.route[i + 1]);
    assert.deepEqual([...tree.children.get(ex.route[i])!].sort(), [good, other].sort());
  });
}

test("the paper's example tokenises and its route and siblings are recovered", () => {
  const ex = exampleFromText(PAPER);
  assert.equal(ex.tokens.length, 51); // 50 tokens + <end>
  assert.equal(ex.tokens[50], TREE_END_ID);
  assert.equal(TREE_VOCAB[ex.tokens[ex.routeStart - 1]], "[ROUTE]");
  assert.equal(ex.routeStart, 46);
  assert.deepEqual(ex.route, ["N", "O", "M", "K"]);
  assert.deepEqual(ex.siblings, [["O", "L"], ["M", "A"], ["K", "C"]]);
  assert.equal(ex.depth, 4);
  assert.equal(ex.text, PAPER);
  assertValidTree(ex);
  assert.throws(() => exampleFromText(PAPER.replace("NOMK", "NOAD")), /route NOAD is wrong/);
});

test("generated trees are valid complete binary trees of the requested depth", () => {
  const rng = new Rng(5);
  for (const depth of [2, 3, 4]) {
    for (let i = 0; i < 50; i++) {
      const ex = generateTree(rng, { depth, shuffleEdges: i % 2 === 1 });
      assertValidTree(ex);
      assert.equal(ex.route.length, depth);
      assert.equal(ex.siblings.length, depth - 1);
    }
  }
  assert.throws(() => generateTree(rng, { depth: 5 }), /needs 31 distinct node names but only 26/);
  assert.throws(() => generateTree(rng, { depth: 4, alphabetSize: 14 }), /needs 15/);
});

test("default edge order is breadth-first over parents like the paper", () => {
  const ex = generateTree(new Rng(9), { depth: 4 });
  const parents = ex.edges.map((e) => e[0]);
  // Each parent lists both children together; parents follow the order children were introduced.
  const expectedParents = [ex.root];
  for (const [, c] of ex.edges) expectedParents.push(c);
  for (let i = 0; i < parents.length; i += 2) {
    assert.equal(parents[i], parents[i + 1]);
    assert.equal(parents[i], expectedParents[i / 2]);
  }
  const pool = generateTree(new Rng(9), { depth: 4, alphabetSize: 15 });
  assert.ok(pool.edges.flat().every((n) => n <= "O"), "alphabetSize 15 uses A–O only");
});

test("encode/decode round-trip and clear errors", () => {
  const ex = generateTree(new Rng(1));
  assert.equal(decodeTree(ex.tokens), ex.text + "<end>");
  assert.deepEqual(encodeTree(decodeTree(ex.tokens)), ex.tokens);
  const all = TREE_VOCAB.map((_, i) => i);
  assert.deepEqual(encodeTree(decodeTree(all)), all);
  assert.equal(TREE_VOCAB.length, 32);
  assert.equal(TREE_VOCAB[TREE_PAD_ID], "<pad>");
  assert.deepEqual(TREE_LETTER_IDS.map((i) => TREE_VOCAB[i]).join(""), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  assert.throws(() => encodeTree("AB,Cd"), /unknown token 'd' at character position 4/);
  assert.throws(() => encodeTree("AB[FOO]"), /unknown token '\[FOO\]' at character position 2/);
  assert.throws(() => decodeTree([2, 3, 99]), /unknown token id 99 at position 2/);
});

test("generation is deterministic per seed and splits use different streams", () => {
  const a = generateSplit("train", 20, { seed: 7 });
  const b = generateSplit("train", 20, { seed: 7 });
  assert.deepEqual(a.map((e) => e.text), b.map((e) => e.text));
  const c = generateSplit("test", 20, { seed: 7 });
  const d = generateSplit("train", 20, { seed: 8 });
  assert.notDeepEqual(a.map((e) => e.text), c.map((e) => e.text));
  assert.notDeepEqual(a.map((e) => e.text), d.map((e) => e.text));
});

test("treeKey ignores edge order; splits are disjoint and excludeKeys filters", () => {
  const ex = generateTree(new Rng(3));
  const shuffled = exampleFromText(`${[...ex.edges].reverse().map((e) => e.join("")).join(",")}[ROOT]${ex.root}[TARGET]${ex.target}`);
  assert.equal(treeKey(shuffled), treeKey(ex));
  const { train, val, test: testSet } = generateSplits({ train: 2000, val: 200, test: 500 }, { seed: 11 });
  const trainKeys = new Set(train.map(treeKey));
  assert.ok(testSet.every((e) => !trainKeys.has(treeKey(e))));
  assert.ok(val.every((e) => !trainKeys.has(treeKey(e))));
  assert.equal(testSet.length, 500);
  // Force collisions: exclude the first 5 problems the unfiltered test stream would produce.
  const plain = generateSplit("test", 10, { seed: 11 });
  const banned = new Set(plain.slice(0, 5).map(treeKey));
  const filtered = generateSplit("test", 10, { seed: 11, excludeKeys: banned });
  assert.equal(filtered.length, 10);
  assert.ok(filtered.every((e) => !banned.has(treeKey(e))));
  assert.deepEqual(filtered.slice(0, 5).map((e) => e.text), plain.slice(5).map((e) => e.text));
});

test("padBatch targets: next token, route-only or all positions", () => {
  const ex = exampleFromText(PAPER);
  const short = exampleFromText("AB,AC[ROOT]A[TARGET]C[ROUTE]AC");
  const T = 56;
  const { inputs, targets } = padBatch([ex, short], T, TREE_PAD_ID, { lossFrom: "route" });
  assert.equal(inputs.length, 2 * T);
  assert.deepEqual([...inputs.slice(0, 51)], ex.tokens);
  assert.ok(inputs.slice(51, T).every((v) => v === TREE_PAD_ID));
  const supervised = [...targets.slice(0, T)].map((v, t) => [t, v]).filter(([, v]) => v !== -1);
  assert.deepEqual(supervised.map(([t]) => t), [45, 46, 47, 48, 49]);
  assert.equal(decodeTree(supervised.map(([, v]) => v)), "NOMK<end>");
  const noEnd = padBatch([ex], T, TREE_PAD_ID, { lossFrom: "route", includeEnd: false }).targets;
  assert.equal(decodeTree([...noEnd].filter((v) => v !== -1)), "NOMK");
  const all = padBatch([ex, short], T, TREE_PAD_ID, { lossFrom: "all" }).targets;
  for (let t = 0; t < 50; t++) assert.equal(all[t], ex.tokens[t + 1]);
  assert.ok(all.slice(50, T).every((v) => v === -1), "no target at <end> or padding");
  const sRow = [...all.slice(T, T + short.tokens.length)];
  assert.deepEqual(sRow.slice(0, -1), short.tokens.slice(1));
  assert.throws(() => padBatch([ex], 40), /51 tokens, more than length 40/);
});
