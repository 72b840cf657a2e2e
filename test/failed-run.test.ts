/**
 * A training run that fails before its first checkpoint undoes only what it wrote: files that
 * appeared in its folder meanwhile (someone's notes, another command's output) stay, and of
 * the folders it created only the empty ones go. Real `jepa` processes on real folders.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { BIN, FAST, jepaFails, pretrainArgs, SORT_DATA, until } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-failed-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("files put into a new run's folder while it trains survive the run failing before its first checkpoint", async () => {
  const out = join(ROOT, "run");
  // The first evaluation (step 2000) saves the best checkpoint into out/best; the first checkpoint would come at the end.
  const args = [...pretrainArgs(out, 4000), "--eval-every", "2000", "--checkpoint-every", "4000", "--log-every", "100000"];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await until(() => existsSync(join(out, ".jepa-run")), 30_000, "the run to claim its folder", 20);
  writeFileSync(join(out, "notes.md"), "my notes\n");
  // A file named like the best checkpoint's folder makes that save, and so the run, fail.
  writeFileSync(join(out, "best"), "mine\n");
  assert.notEqual(await exited, 0, `the run should have failed:\n${stderr}`);
  assert.match(stderr.trim().split("\n").at(-1)!, /^jepa: error: .*best/);
  assert.equal(readFileSync(join(out, "notes.md"), "utf8"), "my notes\n");
  assert.equal(readFileSync(join(out, "best"), "utf8"), "mine\n");
  assert.deepEqual(readdirSync(out).sort(), ["best", "notes.md"], "the run's own files are gone");
});

test("a run that fails before its first checkpoint removes the folders it created, and no others", () => {
  const parent = join(ROOT, "kept");
  mkdirSync(parent);
  // The cfg-paper model does not fit in 256 MB: the run fails once it has claimed --out.
  const failing = (out: string) => ["pretrain", "--data", SORT_DATA, "--out", out, "--preset", "cfg-paper", "--steps", "2", ...FAST];
  jepaFails(failing(join(parent, "new", "deeper", "out")), /engine memory exhausted/);
  assert.deepEqual(readdirSync(parent), [], "the folders the run made are gone");
  const empty = join(ROOT, "empty");
  mkdirSync(empty);
  jepaFails(failing(empty), /engine memory exhausted/);
  assert.ok(existsSync(empty), "a folder that existed before the run stays");
});
