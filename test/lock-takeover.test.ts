/**
 * Taking over a stale lock is safe when several runs start at once: exactly one of them holds
 * the folder, however their steps interleave. Real processes, started together on a lock left
 * by a process that no longer runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { lockRunDir } from "../src/cli/run-lock.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-takeover-"));
const RUN_LOCK = fileURLToPath(new URL("../src/cli/run-lock.js", import.meta.url));
const ERRORS = fileURLToPath(new URL("../src/cli/errors.js", import.meta.url));

const ROUNDS = 8;
const RUNS = 6;
after(() => rmSync(ROOT, { recursive: true, force: true }));

/**
 * A process that waits for startAt, tries the lock, and on success holds it for holdMs. Each
 * file-system call it makes first sleeps a random few milliseconds, so that the runs' steps
 * interleave in many orders, as they may on a busy machine.
 */
const WORKER = `
const fs = (await import("node:fs")).default;
const { syncBuiltinESMExports } = await import("node:module");
const nap = new Int32Array(new SharedArrayBuffer(4));
for (const name of ["existsSync", "readFileSync", "writeFileSync", "openSync", "linkSync", "renameSync", "unlinkSync", "rmSync"]) {
  const real = fs[name];
  fs[name] = (...args) => (Atomics.wait(nap, 0, 0, Math.random() * 6), real(...args));
}
syncBuiltinESMExports();
const { lockRunDir } = await import(process.argv[1]);
const { UsageError } = await import(process.argv[2]);
const [dir, startAt, holdMs] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
while (Date.now() < startAt);
try {
  lockRunDir(dir, "pretrain");
  console.log("held");
  setTimeout(() => {}, holdMs);
} catch (err) {
  console.log(err instanceof UsageError ? "refused" : "crashed " + err.stack);
}
`;

/** Runs n workers on dir at once; resolves to what each printed. */
function race(dir: string, n: number): Promise<string[]> {
  const startAt = Date.now() + 1000;
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ["--input-type=module", "-e", WORKER, RUN_LOCK, ERRORS, dir, String(startAt), "1500"], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.on("close", () => resolve(out.trim()));
      }),
    ),
  );
}

/** The pid of a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout.trim());
}

test("of several runs starting at once on a stale lock, exactly one proceeds", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const dir = join(ROOT, `round-${round}`);
    mkdirSync(dir);
    writeFileSync(join(dir, ".jepa-lock"), JSON.stringify({ pid: deadPid(), host: hostname(), command: "pretrain" }) + "\n");
    const said = await race(dir, RUNS);
    assert.equal(said.filter((s) => s === "held").length, 1, `round ${round}: ${JSON.stringify(said)}`);
    assert.equal(said.filter((s) => s === "refused").length, RUNS - 1, `round ${round}: ${JSON.stringify(said)}`);
    assert.deepEqual(readdirSync(dir), [], "the lock is released and nothing else is left");
  }
});

test("a takeover left half-done by a run that died (its claim on the stale lock remains) is finished by the next run", () => {
  const dir = join(ROOT, "dead-claim");
  mkdirSync(dir);
  const stale = JSON.stringify({ pid: deadPid(), host: hostname(), command: "pretrain" }) + "\n";
  writeFileSync(join(dir, ".jepa-lock"), stale);
  const claim = `.jepa-lock.claim-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`;
  writeFileSync(join(dir, claim), JSON.stringify({ pid: deadPid(), host: hostname(), command: "takeover" }) + "\n");
  const lock = lockRunDir(dir, "pretrain");
  assert.equal(JSON.parse(readFileSync(join(dir, ".jepa-lock"), "utf8")).pid, process.pid);
  lock.release();
  assert.deepEqual(readdirSync(dir), []);
});
