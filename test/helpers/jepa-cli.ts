/** Running the real `jepa` program from tests, and comparing folders before and after. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

/** The `jepa` executable. */
export const BIN = fileURLToPath(new URL("../../../bin/jepa.js", import.meta.url));

/** The sorting task's data (text rows). */
export const SORT_DATA = fileURLToPath(new URL("../../../test/fixtures/sort-digits.jsonl", import.meta.url));

/** Flags that keep a run small: one thread, little memory. */
export const FAST = ["--threads", "1", "--memory", "256"];

/** What a finished `jepa` process left. */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs jepa with args and waits for it. */
export function jepa(args: string[]): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs jepa, which must succeed; returns its stdout. */
export function jepaOk(args: string[]): string {
  const r = jepa(args);
  assert.equal(r.status, 0, `jepa ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Runs jepa, which must fail with exactly one `jepa: error:` line matching pattern. */
export function jepaFails(args: string[], pattern: RegExp): void {
  const r = jepa(args);
  assert.notEqual(r.status, 0, `jepa ${args.join(" ")} should fail`);
  // A machine without the native backend says so in one note line first.
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("note: native backend unavailable"));
  assert.equal(lines.length, 1, `expected one error line from jepa ${args.join(" ")}, got:\n${r.stderr}`);
  assert.match(lines[0], /^jepa: error: /);
  assert.match(lines[0], pattern);
}

/** A tiny pretraining run's arguments. */
export function pretrainArgs(out: string, steps: number, data = SORT_DATA): string[] {
  return ["pretrain", "--data", data, "--out", out, "--preset", "tiny", "--steps", String(steps), ...FAST];
}

/** Every file under dir (relative path → contents), to show that a command touched nothing. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else out.set(rel, readFileSync(join(dir, rel)).toString("base64"));
    }
  };
  walk("");
  return out;
}

/** Waits until check() holds, polling every pollMs; fails after ms, naming what it waited for. */
export async function until(check: () => boolean, ms: number, what: string, pollMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
