/**
 * writeFileAtomic's temporary file never takes the place of a file that is already there:
 * a file someone keeps under the temporary name is neither truncated nor removed, whether the
 * write succeeds or fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileAtomic } from "../src/train/atomic.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-atomic-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("a file named like the temporary file survives a write", () => {
  const path = join(ROOT, "items.jsonl");
  const theirs = `${path}.tmp-${process.pid}`;
  writeFileSync(theirs, "someone's draft\n");
  writeFileAtomic(path, "new\n");
  assert.equal(readFileSync(path, "utf8"), "new\n");
  assert.equal(readFileSync(theirs, "utf8"), "someone's draft\n");
});

test("a file named like the temporary file survives a failed write", () => {
  const path = join(ROOT, "a-folder");
  mkdirSync(path);
  writeFileSync(join(path, "inside"), "kept\n");
  const theirs = `${path}.tmp-${process.pid}`;
  writeFileSync(theirs, "someone's draft\n");
  // Renaming a file onto a non-empty folder fails.
  assert.throws(() => writeFileAtomic(path, "new\n"));
  assert.equal(readFileSync(theirs, "utf8"), "someone's draft\n");
  assert.equal(readFileSync(join(path, "inside"), "utf8"), "kept\n");
});
