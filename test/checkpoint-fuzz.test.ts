/**
 * Seeded corruptions of a whole checkpoint directory (every file, state.json included): each
 * is refused with one line naming the problem, or loads to exactly the original checkpoint;
 * none crashes, hangs or changes a file. Corrupted state.json files are also re-signed (their
 * checksum recomputed), so that the field checks behind the checksum are exercised too.
 */
import { createHash } from "node:crypto";
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.js";
import { loadCheckpoint, type Checkpoint } from "../src/train/checkpoint.js";
import { jepaOk, pretrainArgs } from "./helpers/jepa-cli.js";

const CASES = Number(process.env.JEPA_FUZZ_CASES ?? 10_000);
const ROOT = mkdtempSync(join(tmpdir(), "jepa-fuzz-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

const WEIRD: unknown[] = [null, "abc", -3, 1e9, 1.5, [], {}, true, "", [1, 2, 3, 4, null], { metric: "loss", value: 1, step: 1 }];

/** One corruption of dir; returns what was done, for the failure message. */
function corrupt(dir: string, rng: Rng): string {
  const names = readdirSync(dir).filter((n) => !n.startsWith("."));
  const name = names[rng.int(names.length)];
  const path = join(dir, name);
  const bytes = new Uint8Array(readFileSync(path));
  const kind = rng.int(name === "state.json" ? 8 : 5);
  if (kind === 0) {
    const at = rng.int(bytes.length);
    bytes[at] ^= 1 << rng.int(8);
    writeFileSync(path, bytes);
    return `${name}: flipped a bit of byte ${at}`;
  }
  if (kind === 1) {
    const at = rng.int(bytes.length);
    writeFileSync(path, bytes.subarray(0, at));
    return `${name}: truncated to ${at} bytes`;
  }
  if (kind === 2) {
    writeFileSync(path, Buffer.concat([bytes, Buffer.from([rng.int(256), rng.int(256)])]));
    return `${name}: two bytes appended`;
  }
  if (kind === 3) {
    rmSync(path);
    return `${name}: removed`;
  }
  if (kind === 4) {
    rmSync(path);
    symlinkSync("/dev/zero", path);
    return `${name}: a symlink to /dev/zero`;
  }
  // state.json, parsed: a field set to an odd value (or a file hash, or the format), re-signed or not.
  const { checksum, ...body } = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  const keys = Object.keys(body);
  const key = keys[rng.int(keys.length)];
  const value = WEIRD[rng.int(WEIRD.length)];
  body[key] = value;
  const sign = kind !== 5;
  const text = JSON.stringify(body);
  writeFileSync(path, JSON.stringify({ ...body, checksum: sign ? createHash("sha256").update(text).digest("hex") : checksum }));
  return `state.json: ${key} = ${JSON.stringify(value)}${sign ? ", re-signed" : ""}`;
}

function listing(dir: string): string {
  return readdirSync(dir).sort().map((n) => `${n}:${lstatSync(join(dir, n)).size}:${lstatSync(join(dir, n)).mtimeMs}`).join(",");
}

function same(a: Checkpoint, b: Checkpoint): boolean {
  const groups = (c: Checkpoint) => JSON.stringify([c.config, c.state, [...c.model].map(([k, t]) => [k, t.shape, Array.from(t.data)])]);
  return groups(a) === groups(b);
}

test(`${CASES} seeded corruptions of a checkpoint: one-line refusals or the same checkpoint, no crash, hang or write`, () => {
  const run = join(ROOT, "run");
  jepaOk([...pretrainArgs(run, 4), "--eval-every", "2"]);
  // The checkpoint's own files only (not the run's metrics, best/ or marker).
  const source = join(ROOT, "source");
  mkdirSync(source);
  for (const name of ["config.json", "model.safetensors", "optimizer.safetensors", "state.json"]) cpSync(join(run, name), join(source, name));
  const original = loadCheckpoint(source);
  const dir = join(ROOT, "case");
  const counts = { refused: 0, identical: 0, forged: 0 };
  const rng = new Rng(2026);
  for (let i = 0; i < CASES; i++) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(source, dir, { recursive: true, verbatimSymlinks: true });
    const what = corrupt(dir, rng);
    const before = i % 50 === 0 ? listing(dir) : "";
    const start = performance.now();
    try {
      const got = loadCheckpoint(dir);
      if (same(got, original)) counts.identical++;
      else {
        // Only a re-signed state.json with valid fields can load differently: a forgery a checksum cannot see.
        assert.match(what, /re-signed/, `case ${i} (${what}) loaded a different checkpoint`);
        counts.forged++;
      }
    } catch (err) {
      const e = err as Error;
      assert.equal(e.constructor, Error, `case ${i} (${what}) crashed: ${e.stack}`);
      assert.doesNotMatch(e.message, /\n|Cannot read|undefined|Invalid typed array|Maximum call stack/, `case ${i} (${what}): ${e.message}`);
      counts.refused++;
    }
    assert.ok(performance.now() - start < 5000, `case ${i} (${what}) took ${performance.now() - start} ms`);
    if (before) assert.equal(listing(dir), before, `case ${i} (${what}) changed the directory`);
  }
  console.log(`checkpoint fuzz: ${CASES} cases, ${counts.refused} refused, ${counts.identical} identical, ${counts.forged} re-signed forgeries with valid fields`);
  assert.equal(counts.refused + counts.identical + counts.forged, CASES);
});
