/**
 * `jepa generate --latents FILE`: the chain is written whole (no temporary file left), a rerun
 * replaces its own earlier file, and any other existing file (someone's notes, another
 * safetensors file, a path inside the checkpoint) is refused with one line before any work, untouched.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseSafetensors, toFloat32 } from "../src/engine/safetensors.js";
import { FAST, jepaFails, jepaOk, pretrainArgs, snapshot, SORT_DATA } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-latents-"));
const TALK = join(ROOT, "talk");
const OUT = join(ROOT, "out");
const generate = (file: string, prompt = "93157=") => ["generate", "--checkpoint", TALK, "--prompt", prompt, "--latents", file, ...FAST];

before(() => {
  const sst = join(ROOT, "sst");
  jepaOk(pretrainArgs(join(ROOT, "pre"), 2));
  jepaOk(["sst", "--init", join(ROOT, "pre"), "--data", SORT_DATA, "--out", sst, "--steps", "2", ...FAST]);
  jepaOk(["talker", "--reasoner", sst, "--data", SORT_DATA, "--out", TALK, "--steps", "2", "--talker-preset", "tiny", ...FAST]);
  copyFileSync(join(TALK, "model.safetensors"), join(ROOT, "weights.safetensors"));
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("the chain is written whole, unit-norm, with its prompt; a rerun replaces the file it wrote", () => {
  const file = join(ROOT, "chain.safetensors");
  jepaOk(generate(file, "11111="));
  const first = readFileSync(file);
  jepaOk(generate(file));
  const parsed = parseSafetensors(new Uint8Array(readFileSync(file)));
  assert.notDeepEqual(readFileSync(file), first, "replaced by the second prompt's chain");
  assert.deepEqual(JSON.parse(parsed.metadata.prompt_tokens), [11, 5, 3, 7, 9, 12]);
  const latents = parsed.tensors.get("latents")!;
  const values = toFloat32(latents);
  for (let r = 0; r < latents.shape[0]; r++) {
    const row = values.subarray(r * latents.shape[1], (r + 1) * latents.shape[1]);
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5, `latent ${r} has norm 1`);
  }
  assert.deepEqual(readdirSync(ROOT).filter((n) => n.includes(".tmp-")), [], "no temporary file left");
});

test("an existing file generate did not write is refused before any work, and kept", () => {
  const notes = join(ROOT, "notes.safetensors");
  writeFileSync(notes, "my notes\n");
  for (const [file, pattern] of [
    [notes, /--latents .*notes\.safetensors already exists and is not a file 'jepa generate' wrote/],
    [join(ROOT, "weights.safetensors"), /--latents .*weights\.safetensors already exists and is not a file 'jepa generate' wrote/],
    [join(TALK, "chain.safetensors"), /--latents .*chain\.safetensors is inside the checkpoint .*talk/],
    [join(TALK, "model.safetensors"), /--latents .*model\.safetensors is inside the checkpoint .*talk/],
    [join(OUT, "chain.safetensors"), /--latents .*chain\.safetensors: the folder .*out does not exist/],
  ] as const) {
    const before = snapshot(ROOT);
    jepaFails(generate(file), pattern);
    assert.deepEqual(snapshot(ROOT), before, `${file} or its neighbours changed`);
  }
});
