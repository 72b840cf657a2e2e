// The tree presets build valid models, and the quick and cpu presets keep the paper's QK-Norm
// with heads as wide as the paper's (48): a preset edited into an invalid or unfaithful model
// fails here, not twenty minutes into a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TREE_VOCAB } from "../src/data/tree.js";
import { TREE_PRESETS } from "../src/experiments/tree-config.js";
import { validateConfig } from "../src/model/config.js";

test("every tree preset's Reasoner and Talker are valid configurations", () => {
  for (const [name, p] of Object.entries(TREE_PRESETS)) {
    assert.doesNotThrow(() => validateConfig({ ...p.reasoner, vocab: TREE_VOCAB.length }), `preset ${name} reasoner`);
    assert.doesNotThrow(() => validateConfig({ ...p.talker, vocab: TREE_VOCAB.length }), `preset ${name} talker`);
  }
});

test("the quick, cpu and paper presets use the paper's QK-Norm with heads 48 wide", () => {
  for (const name of ["quick", "cpu", "paper"]) {
    const r = TREE_PRESETS[name].reasoner;
    assert.equal(r.qkNorm ?? "paper", "paper", name);
    assert.equal(r.attnDim / r.heads, 48, name);
  }
});
