/**
 * A live training run next to other processes: readers (`jepa inspect`) in a loop neither
 * disturb it nor see a save half-way, a second writer on the same --out is refused by the
 * lock, and a lock left by a killed run is taken over. Real processes throughout.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { BIN, jepa, jepaFails, jepaOk, pretrainArgs, until } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-live-"));
let trainer: ChildProcess | null = null;

after(() => {
  trainer?.kill("SIGKILL");
  rmSync(ROOT, { recursive: true, force: true });
});

test("readers of a live run see whole saves and leave it running; a second writer is refused", async () => {
  const out = join(ROOT, "live");
  let log = "";
  trainer = spawn(process.execPath, [BIN, ...pretrainArgs(out, 100_000), "--checkpoint-every", "1", "--eval-every", "1000000"], { stdio: ["ignore", "ignore", "pipe"] });
  trainer.stderr!.on("data", (d) => (log += d));
  await until(() => existsSync(join(out, "state.json")), 30_000, "the first checkpoint");
  const steps = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const r = jepa(["inspect", "--checkpoint", out]);
    assert.equal(r.status, 0, `inspect ${i} failed on the live run:\n${r.stderr}`);
    steps.add(/step (\d+)/.exec(r.stdout)?.[1] ?? "?");
  }
  assert.ok(steps.size > 1, "the run saved while it was being read");
  jepaFails(pretrainArgs(out, 100_000), /live is in use by another run \(jepa pretrain, pid \d+\): wait for it to end, or use another --out/);
  assert.equal(trainer.exitCode, null, `the training run stopped:\n${log}`);
  assert.doesNotMatch(log, /error/);
  trainer.kill("SIGKILL");
  await until(() => trainer!.exitCode !== null || trainer!.signalCode !== null, 10_000, "the run to die");
  const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step as number);
  assert.deepEqual(lines, lines.map((_, i) => i + 1), "metrics.jsonl holds one run's steps, in order");
});

test("a lock left by a process that no longer runs is taken over", () => {
  const out = join(ROOT, "stale");
  mkdirSync(out);
  const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  const pid = Number(gone.stdout.trim());
  writeFileSync(join(out, ".jepa-lock"), JSON.stringify({ pid, host: hostname(), command: "pretrain" }) + "\n");
  jepaOk(pretrainArgs(out, 3));
  assert.ok(existsSync(join(out, "state.json")));
  assert.ok(!existsSync(join(out, ".jepa-lock")), "the lock is released at the end");
});

test("a folder inside another live run's folder (one stage of a running experiment) is refused", () => {
  const experiment = join(ROOT, "experiment");
  mkdirSync(experiment);
  // This test's own process stands for the live experiment.
  writeFileSync(join(experiment, ".jepa-lock"), JSON.stringify({ pid: process.pid, host: hostname(), command: "tree" }) + "\n");
  jepaFails(pretrainArgs(join(experiment, "pretrain"), 3), /pretrain is inside .*experiment, in use by another run \(jepa tree, pid \d+\): use another --out/);
  assert.ok(!existsSync(join(experiment, "pretrain")));
});
