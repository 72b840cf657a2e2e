/**
 * state.json is covered by its own checksum and every field is checked; readers of a
 * checkpoint whose save was interrupted read it without changing a byte, and only the run
 * that owns the folder finishes or discards that save.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadCheckpoint, saveCheckpoint } from "../src/train/checkpoint.js";
import { jepaFails, jepaOk, pretrainArgs, snapshot, SORT_DATA } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-state-"));
const PRE = join(ROOT, "pre");
const preArgs = (out: string) => [...pretrainArgs(out, 4), "--eval-every", "2"];

before(() => {
  jepaOk(preArgs(PRE));
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A copy of PRE whose state.json is rewritten by edit, with its checksum recomputed when `sign`. */
function forged(name: string, edit: (state: Record<string, unknown>) => void, sign = true): string {
  const dir = join(ROOT, name);
  cpSync(PRE, dir, { recursive: true });
  const { checksum, ...body } = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as Record<string, unknown>;
  edit(body);
  writeFileSync(join(dir, "state.json"), JSON.stringify({ ...body, checksum: sign ? sha256(JSON.stringify(body)) : checksum }, null, 2));
  return dir;
}

test("an edited state.json fails its checksum", () => {
  const dir = forged("edited", (s) => (s.step = 3), false);
  jepaFails(["inspect", "--checkpoint", dir], /state\.json is truncated or modified \(checksum mismatch\)/);
  jepaFails(preArgs(dir), /state\.json is truncated or modified \(checksum mismatch\)/);
});

test("every field of a (re-signed) state.json is checked, by readers and by a resuming run", () => {
  const cases: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ["step-text", (s) => (s.step = "abc"), /step must be an integer from 0 to 4, got "abc"/],
    ["step-negative", (s) => (s.step = -3), /step must be an integer from 0 to 4, got -3/],
    ["step-huge", (s) => (s.step = 1e9), /step must be an integer from 0 to 4, got 1000000000/],
    ["position", (s) => (s.dataPosition = -1), /dataPosition must be a non-negative integer, got -1/],
    ["position-skewed", (s) => (s.dataPosition = 5), /dataPosition 5 is not step 4 × batch 32/],
    ["best", (s) => (s.best = { metric: "loss", value: 0, step: 99 }), /best\.step must be an integer from 1 to the checkpoint's step 4/],
    ["best-value", (s) => (s.best = { metric: "loss", value: "low", step: 2 }), /best\.value must be a finite number/],
    ["rng", (s) => (s.rng = [1, 2, 3]), /rng must be four 32-bit unsigned integers/],
    ["files", (s) => (s.files = "none"), /'files' must map file names to SHA-256 hashes/],
    ["format", (s) => (s.format = 7), /unsupported checkpoint format 7/],
  ];
  for (const [name, edit, pattern] of cases) {
    const dir = forged(name, edit);
    jepaFails(["inspect", "--checkpoint", dir], pattern);
    if (name === "step-text") jepaFails(preArgs(dir), pattern);
  }
});

test("a checkpoint written before state.json carried a checksum still loads, and only without one", () => {
  const legacy = forged("legacy", (s) => (s.format = 1), false);
  const { checksum: _c, ...body } = JSON.parse(readFileSync(join(legacy, "state.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(legacy, "state.json"), JSON.stringify(body));
  assert.match(jepaOk(["inspect", "--checkpoint", legacy]), /step 4/);
  jepaFails(["inspect", "--checkpoint", forged("legacy-signed", (s) => (s.format = 1))], /unsupported checkpoint format 1/);
});

test("an interrupted save is read as a whole save without changing a byte; the owning run finishes or discards it", () => {
  const a = loadCheckpoint(PRE);
  const model = new Map([...a.model].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((x) => x + 1) }]));
  const next = join(ROOT, "next");
  saveCheckpoint(next, { ...a, model });
  // Committed, half renamed: the new model is in place, config, optimizer and state are still `.next`.
  const committed = join(ROOT, "committed");
  cpSync(PRE, committed, { recursive: true });
  cpSync(join(next, "model.safetensors"), join(committed, "model.safetensors"));
  for (const f of ["config.json", "optimizer.safetensors", "state.json"]) cpSync(join(next, f), join(committed, `${f}.next`));
  // Not committed: leftovers of a save killed before state.json.next.
  const uncommitted = join(ROOT, "uncommitted");
  cpSync(PRE, uncommitted, { recursive: true });
  writeFileSync(join(uncommitted, "model.safetensors.next"), "half a file");
  writeFileSync(join(uncommitted, "config.json.next.tmp-12345"), "half a file");
  writeFileSync(join(uncommitted, "notes.next"), "not the checkpoint's");

  for (const [dir, expected] of [[committed, model], [uncommitted, a.model]] as const) {
    const before = snapshot(dir);
    assert.match(jepaOk(["inspect", "--checkpoint", dir]), /step 4/);
    assert.deepEqual(loadCheckpoint(dir).model.get("wte.weight")!.data, expected.get("wte.weight")!.data);
    assert.deepEqual(snapshot(dir), before, `reading ${dir} changed it`);
    jepaOk(preArgs(dir));
    const names = [...snapshot(dir).keys()];
    assert.deepEqual(names.filter((n) => /\.next|\.tmp-/.test(n)), dir === uncommitted ? ["notes.next"] : []);
  }
  assert.deepEqual(loadCheckpoint(committed).model.get("wte.weight")!.data, model.get("wte.weight")!.data);
});

test("a committed save listing a file that is not the checkpoint's (../victim) is refused and nothing is renamed", () => {
  const dir = join(ROOT, "escape", "run");
  cpSync(PRE, dir, { recursive: true });
  const { checksum: _c, ...body } = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { checksum: string; files: Record<string, string> };
  body.files["../victim"] = sha256("planted");
  writeFileSync(join(dir, "state.json.next"), JSON.stringify({ ...body, checksum: sha256(JSON.stringify(body)) }));
  writeFileSync(join(ROOT, "escape", "victim"), "the user's file");
  writeFileSync(join(ROOT, "escape", "victim.next"), "planted");
  const before = snapshot(join(ROOT, "escape"));
  const refusal = /run\/state\.json\.next: lists "\.\.\/victim", which is not a checkpoint file/;
  jepaFails(preArgs(dir), refusal);
  // A reader skips the bad save and reads the committed one.
  assert.match(jepaOk(["inspect", "--checkpoint", dir]), /step 4/);
  assert.deepEqual(snapshot(join(ROOT, "escape")), before, "nothing was renamed");
});

/** A copy of the checkpoint src whose config.json is rewritten by edit, with state.json's hashes recomputed. */
function forgedConfig(src: string, name: string, edit: (config: Record<string, unknown>) => void): string {
  const dir = join(ROOT, name);
  cpSync(src, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  edit(config);
  const text = JSON.stringify(config);
  writeFileSync(join(dir, "config.json"), text);
  const { checksum: _c, ...body } = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { checksum: string; files: Record<string, string> };
  body.files["config.json"] = sha256(text);
  writeFileSync(join(dir, "state.json"), JSON.stringify({ ...body, checksum: sha256(JSON.stringify(body)) }));
  return dir;
}

test("a re-signed config with a null field or fewer layers than its weights gets one line", () => {
  const sst = join(ROOT, "sst"), talk = join(ROOT, "talk");
  const common = ["--data", SORT_DATA, "--steps", "2", "--threads", "1", "--memory", "256"];
  jepaOk(["sst", "--init", PRE, "--out", sst, ...common]);
  jepaOk(["talker", "--reasoner", sst, "--out", talk, "--talker-preset", "tiny", ...common]);
  const generate = (dir: string) => ["generate", "--checkpoint", dir, "--prompt", "12345="];
  jepaFails(generate(forgedConfig(talk, "null-talker", (c) => (c.talker = null))), /null-talker\/config\.json: no talker configuration$/);
  const shallow = forgedConfig(talk, "shallow", (c) => ((c.reasoner as { layers: number }).layers = 1));
  jepaFails(generate(shallow), /shallow: 6 tensor\(s\) of model\.safetensors fit no parameter of the model its config\.json describes \(first: 'reasoner\.blocks\.1\.norm1\.weight'\)/);
  const shallowPre = forgedConfig(PRE, "shallow-pre", (c) => ((c.model as { layers: number }).layers = 1));
  jepaFails(["baseline", "--init", shallowPre, "--out", join(ROOT, "b"), ...common], /shallow-pre: 6 tensor\(s\) .* fit no parameter/);
});
