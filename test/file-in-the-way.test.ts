/**
 * A user's file under a name where a run keeps a folder (best/ of a training run, a stage of an
 * experiment) gets one clear line naming it and what to do, not the system's EEXIST, and is kept.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { FAST, jepa, jepaFails, jepaOk, pretrainArgs } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-in-the-way-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("a file named best in a training run's folder is named in one line and kept", () => {
  const run = join(ROOT, "pre");
  const args = [...pretrainArgs(run, 2), "--eval-every", "1"];
  jepaOk(args);
  rmSync(join(run, "best"), { recursive: true, force: true });
  writeFileSync(join(run, "best"), "my best guess\n");
  jepaFails(args, /pre\/best is a file where jepa keeps a folder: move or rename it, then rerun$/);
  assert.equal(readFileSync(join(run, "best"), "utf8"), "my best guess\n");
});

test("a file named like an experiment's stage is named in one line and kept", () => {
  const run = join(ROOT, "tree");
  const args = ["tree", "--preset", "tiny", "--out", run, "--no-k-sweep", ...FAST];
  jepaOk(args);
  rmSync(join(run, "talker"), { recursive: true });
  writeFileSync(join(run, "talker"), "notes\n");
  // The stages before it resume (their progress lines come first), then one error line.
  const r = jepa(args);
  assert.notEqual(r.status, 0);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("jepa: error:"));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], /tree\/talker is a file where jepa keeps a folder: move or rename it, then rerun$/);
  assert.equal(readFileSync(join(run, "talker"), "utf8"), "notes\n");
});
