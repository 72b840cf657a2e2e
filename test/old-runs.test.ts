/**
 * A folder from before runs were marked is taken as a run of a command only if it holds that
 * command's own checkpoint: another command's checkpoint is refused with one line and the folder
 * is neither marked nor changed, so the command that wrote it still resumes there.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FAST, jepaFails, jepaOk, pretrainArgs, snapshot, SORT_DATA } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-old-"));
const PRE = join(ROOT, "pre");
const SST = join(ROOT, "sst");
const sstArgs = (out: string) => ["sst", "--init", PRE, "--data", SORT_DATA, "--out", out, "--steps", "2", ...FAST];

before(() => {
  jepaOk(pretrainArgs(PRE, 3));
  jepaOk(sstArgs(SST));
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** A copy of the run folder dir without its marker, as runs were written before markers. */
function unmarked(dir: string, name: string): string {
  const copy = join(ROOT, name);
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, ".jepa-run"));
  return copy;
}

test("an unmarked sst checkpoint given to pretrain or baseline is refused and left as it was; sst resumes there", () => {
  const old = unmarked(SST, "old-sst");
  const before = snapshot(old);
  jepaFails(pretrainArgs(old, 3), /--out .*old-sst is a non-empty folder that is not a 'jepa pretrain' run/);
  jepaFails(["baseline", "--init", PRE, "--data", SORT_DATA, "--out", old, "--steps", "2", ...FAST], /is a non-empty folder that is not a 'jepa baseline' run/);
  assert.deepEqual(snapshot(old), before);
  assert.ok(!existsSync(join(old, ".jepa-run")), "not marked");
  assert.match(jepaOk([...sstArgs(old), "--json"]), /"resumed_from":2/);
});

test("an unmarked pretrain checkpoint is not a baseline run, and is still a pretrain run", () => {
  const old = unmarked(PRE, "old-pre");
  jepaFails(["baseline", "--init", PRE, "--data", SORT_DATA, "--out", old, "--steps", "2", ...FAST], /not a 'jepa baseline' run/);
  assert.match(jepaOk([...pretrainArgs(old, 3), "--json"]), /"resumed_from":3/);
});

test("an unmarked tree run is not a cfg or arith run", () => {
  const tree = join(ROOT, "tree");
  jepaOk(["tree", "--preset", "tiny", "--out", tree, "--no-k-sweep", ...FAST]);
  const old = unmarked(tree, "old-tree");
  const before = snapshot(old);
  jepaFails(["cfg", "--preset", "tiny", "--out", old, ...FAST], /is a non-empty folder that is not a 'jepa cfg' run/);
  jepaFails(["arith", "--preset", "tiny", "--out", old, ...FAST], /is a non-empty folder that is not a 'jepa arith' run/);
  assert.deepEqual(snapshot(old), before);
});
