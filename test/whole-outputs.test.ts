/**
 * Every file an experiment writes under its --out arrives whole, by rename from a temporary
 * file, so a kill cannot leave a half-written figure, report or evaluation log that looks
 * complete. The real `jepa tree`, `cfg` and `arith` runs, with every in-place write recorded.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { BIN, FAST } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-whole-"));
const LOG = join(ROOT, "in-place-writes.txt");
const HOOK = join(ROOT, "record-writes.mjs");
after(() => rmSync(ROOT, { recursive: true, force: true }));

// Loaded before jepa: records the target of every writeFileSync (a write in place, not atomic).
writeFileSync(HOOK, `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const real = fs.writeFileSync, writeSync = fs.writeSync;
const log = fs.openSync(${JSON.stringify(LOG)}, "a");
fs.writeFileSync = (path, ...rest) => {
  if (typeof path === "string") writeSync(log, path + "\\n");
  return real(path, ...rest);
};
syncBuiltinESMExports();
`);

/**
 * The files under out that a run of `args` wrote in place: not the lock's temporary file, nor
 * metrics.jsonl, a log appended a line at a time that a resumed run trims to its checkpoint.
 */
function inPlaceWrites(out: string, args: string[]): string[] {
  writeFileSync(LOG, "");
  const r = spawnSync(process.execPath, ["--import", HOOK, BIN, ...args, "--out", out, ...FAST], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(LOG, "utf8").split("\n").filter((p) => p.startsWith(out) && !/(\.jepa-lock\.new-\d+|\/metrics\.jsonl)$/.test(p));
}

test("tree, cfg and arith write their figures, reports and logs whole", () => {
  assert.deepEqual(inPlaceWrites(join(ROOT, "tree"), ["tree", "--preset", "tiny", "--no-k-sweep"]), []);
  assert.deepEqual(inPlaceWrites(join(ROOT, "cfg"), ["cfg", "--preset", "tiny"]), []);
  assert.deepEqual(inPlaceWrites(join(ROOT, "arith"), ["arith", "--preset", "tiny"]), []);
});
