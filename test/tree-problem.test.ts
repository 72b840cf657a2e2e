// Trees typed by a person: accepted when they are complete binary trees of the model's depth
// with a leaf target, refused otherwise with one clear message naming the problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateTree } from "../src/data/tree.js";
import { treeProblemFromText } from "../src/data/tree-problem.js";
import { Rng } from "../src/engine/rng.js";

const PAPER = "NL,NO,LJ,LI,OA,OM,JB,JH,IG,IF,AD,AE,MK,MC[ROOT]N[TARGET]K";

test("a valid tree gives the same example as the generator, whatever the spacing, case or route written", () => {
  const ex = generateTree(new Rng(4), { depth: 4, alphabetSize: 15 });
  const prompt = ex.text.slice(0, ex.text.indexOf("[ROUTE]"));
  assert.deepEqual(treeProblemFromText(prompt, 4), ex);
  assert.deepEqual(treeProblemFromText(` ${prompt.toLowerCase().replace(/,/g, ", ")}[ROUTE]XYZ `, 4).tokens, ex.tokens);
  assert.deepEqual(treeProblemFromText(PAPER, 4).route, ["N", "O", "M", "K"]);
});

test("bad trees are refused with one clear message", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /^the tree is empty/],
    ["NL,NO[ROOT]", /^the tree text is malformed/],
    [PAPER.replace("[TARGET]K", "[TARGET]O"), /^the target O is not a leaf \(its children are A and M\)/],
    [PAPER.replace("[TARGET]K", "[TARGET]Z"), /^the target Z is not a node of the tree/],
    [PAPER.replace("[ROOT]N", "[ROOT]L"), /^the root L has a parent \(N\)/],
    [PAPER.replace(",MC", ""), /^the tree must be a complete binary tree of depth 4 \(15 nodes\).*: node M has 1 children/],
    [PAPER.replace(",MK,MC", "").replace("[TARGET]K", "[TARGET]D"), /^the tree must be a complete binary tree of depth 4.*: leaf M is on level 3/],
    [PAPER.replace("AE", "AL"), /^the tree is not a tree: node L has two parents \(N, A\)/],
    [`${PAPER.replace("[ROOT]", ",XY,XZ[ROOT]")}`, /^node X is not connected to the root N/],
  ];
  for (const [text, message] of cases) assert.throws(() => treeProblemFromText(text, 4), { message }, text);
  assert.throws(() => treeProblemFromText(PAPER, 3), { message: /depth 3 \(7 nodes\)/ });
});
