/**
 * A tree run's checkpoints record the task (config `tree`: vocabulary, alphabet size, depth).
 * The record is additive: a run written before it existed resumes into the same folder, and its
 * next save records the task; a checkpoint recording another vocabulary is refused by the page's loader.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { TREE_VOCAB } from "../src/data/tree.js";
import { treeModelSpec } from "../src/experiments/tree-model.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { stateFileText } from "../src/train/checkpoint-state.js";
import { FAST, jepaOk } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-tree-record-"));
const STAGES = ["pretrain", "baseline", "sst", "talker"];
after(() => rmSync(ROOT, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** Rewrites the checkpoint in dir as one written before the record: config without `tree`, state re-signed. */
function withoutRecord(dir: string): void {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  delete config.tree;
  const configText = JSON.stringify(config, null, 2) + "\n";
  writeFileSync(join(dir, "config.json"), configText);
  const { checksum: _c, ...body } = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as Record<string, unknown> & { files: Record<string, string> };
  body.files["config.json"] = sha256(configText);
  writeFileSync(join(dir, "state.json"), stateFileText(body, sha256));
}

test("a tree run written without the task record resumes in place, and its next saves record it", () => {
  const run = join(ROOT, "run");
  jepaOk(["tree", "--preset", "tiny", "--out", run, "--no-k-sweep", ...FAST]);
  for (const stage of STAGES) {
    withoutRecord(join(run, stage));
    assert.equal(loadCheckpoint(join(run, stage)).config.tree, undefined, `${stage} stands for an old checkpoint`);
  }
  jepaOk(["tree", "--preset", "tiny", "--out", run, "--no-k-sweep", ...FAST]);
  for (const stage of STAGES) {
    const tree = loadCheckpoint(join(run, stage)).config.tree as { vocab: string[] } | undefined;
    assert.deepEqual(tree?.vocab, [...TREE_VOCAB], `${stage} records the vocabulary again`);
  }
});

test("the page's loader refuses a tree checkpoint recording another vocabulary, and takes one recording none", () => {
  const ckpt = loadCheckpoint(join(ROOT, "run", "talker"));
  const tree = ckpt.config.tree as { vocab: string[] };
  assert.doesNotThrow(() => treeModelSpec(ckpt.config, "ckpt"));
  assert.doesNotThrow(() => treeModelSpec({ ...ckpt.config, tree: undefined }, "ckpt"));
  const swapped = { ...ckpt.config, tree: { ...tree, vocab: [...tree.vocab.slice(0, 2), "B", "A", ...tree.vocab.slice(4)] } };
  assert.throws(() => treeModelSpec(swapped, "ckpt"), /ckpt\/config\.json: tree\.vocab is not the tree task's vocabulary/);
});
