/**
 * Output paths that would lose data are refused with one line before anything is written:
 * a folder that is not a run of the command, an input, a path inside a checkpoint, a file
 * where a folder is wanted and the reverse. Each case runs the real `jepa` on real files.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FAST, jepaFails, jepaOk, pretrainArgs, snapshot, SORT_DATA } from "./helpers/jepa-cli.js";

const GSM8K = fileURLToPath(new URL("../../test/fixtures/gsm8k-20.jsonl", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "jepa-out-"));
const PRE = join(ROOT, "pre");

before(() => {
  jepaOk(pretrainArgs(PRE, 10));
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** Runs jepa, which must fail with one line, and checks that dir is byte for byte as it was. */
function refusedUntouched(dir: string, args: string[], pattern: RegExp): void {
  const before = snapshot(dir);
  jepaFails(args, pattern);
  assert.deepEqual(snapshot(dir), before, `jepa ${args.join(" ")} changed ${dir}`);
}

test("a folder of someone's own files is not trained into, and nothing in it changes", () => {
  const mine = join(ROOT, "mine");
  mkdirSync(mine);
  writeFileSync(join(mine, "config.json"), '{"mine": true}\n');
  writeFileSync(join(mine, "metrics.jsonl"), '{"step": 1}\n');
  writeFileSync(join(mine, "model.safetensors.next"), "draft");
  writeFileSync(join(mine, "notes.tmp-1"), "draft");
  refusedUntouched(ROOT, pretrainArgs(mine, 5), /--out .*mine is a non-empty folder that is not a 'jepa pretrain' run \(it holds config\.json, metrics\.jsonl, model\.safetensors\.next, …\)/);
  refusedUntouched(ROOT, ["tree", "--preset", "tiny", "--out", mine, ...FAST], /not a 'jepa tree' run/);
});

test("another command's run, a path inside a checkpoint and a file are refused as --out", () => {
  refusedUntouched(ROOT, ["sst", "--init", PRE, "--data", SORT_DATA, "--out", PRE, "--steps", "2", ...FAST], /--out .*pre is the input .*pre/);
  refusedUntouched(ROOT, ["baseline", "--init", PRE, "--data", SORT_DATA, "--out", join(PRE, "best"), "--steps", "2", ...FAST], /is inside the checkpoint .*pre: write outside it/);
  const file = join(ROOT, "a-file");
  writeFileSync(file, "mine\n");
  refusedUntouched(ROOT, pretrainArgs(file, 5), /--out .*a-file is a file, not a folder/);
  const sst = join(ROOT, "sst-run");
  jepaOk(["sst", "--init", PRE, "--data", SORT_DATA, "--out", sst, "--steps", "2", ...FAST]);
  refusedUntouched(ROOT, pretrainArgs(sst, 5), /--out .*sst-run holds a 'jepa sst' run, not a 'jepa pretrain' one/);
});

test("an input inside --out is refused; a run of the same command resumes", () => {
  const run = join(ROOT, "resumes");
  jepaOk(pretrainArgs(run, 4));
  const data = join(run, "data.jsonl");
  cpSync(SORT_DATA, data);
  refusedUntouched(ROOT, pretrainArgs(run, 4, data), /--out .*resumes holds the input .*data\.jsonl/);
  rmSync(data);
  assert.match(jepaOk([...pretrainArgs(run, 4), "--json"]), /"resumed_from":4/);
});

test("gsm8k --out may not be its data, its exemplars, a checkpoint's file or a folder, checked before evaluating", () => {
  const data = join(ROOT, "problems.jsonl");
  cpSync(GSM8K, data);
  const fewshot = join(ROOT, "fewshot.jsonl");
  cpSync(GSM8K, fewshot);
  const base = ["gsm8k", "--checkpoint", PRE, "--data", data, "--fewshot", fewshot, "--limit", "1", "--max-tokens", "2", ...FAST];
  refusedUntouched(ROOT, [...base, "--out", data], /--out .*problems\.jsonl is the input .*problems\.jsonl: the command would overwrite what it reads/);
  refusedUntouched(ROOT, [...base, "--out", fewshot], /is the input .*fewshot\.jsonl/);
  refusedUntouched(ROOT, [...base, "--out", join(PRE, "config.json")], /is inside the checkpoint .*pre/);
  refusedUntouched(ROOT, [...base, "--out", ROOT], /is not a regular file \(a folder\?\)/);
  refusedUntouched(ROOT, [...base, "--out", join(ROOT, "nowhere", "items.jsonl")], /the folder .*nowhere does not exist/);
  assert.equal(readFileSync(data, "utf8"), readFileSync(GSM8K, "utf8"));
});

test("serve --export may not overwrite the run's own checkpoint", () => {
  const run = join(ROOT, "run");
  cpSync(PRE, join(run, "talker"), { recursive: true });
  refusedUntouched(ROOT, ["serve", "--run", run, "--export", join(run, "talker", "model.safetensors")], /--export .*model\.safetensors is inside the checkpoint .*talker/);
  refusedUntouched(ROOT, ["serve", "--run", run, "--export", ROOT], /is not a regular file/);
  assert.ok(!existsSync(join(run, "talker", ".jepa-lock")));
});

test("a folder holding a state.json that is not a checkpoint is not taken for an earlier run, and nothing in it changes", () => {
  const mine = join(ROOT, "app-state");
  mkdirSync(mine);
  writeFileSync(join(mine, "state.json"), '{"theme": "dark"}\n');
  writeFileSync(join(mine, "config.json.next"), "draft\n");
  refusedUntouched(ROOT, pretrainArgs(mine, 3), /--out .*app-state is a non-empty folder that is not a 'jepa pretrain' run/);
  const experiment = join(ROOT, "app-stages");
  mkdirSync(join(experiment, "pretrain"), { recursive: true });
  writeFileSync(join(experiment, "pretrain", "state.json"), '{"theme": "dark"}\n');
  refusedUntouched(ROOT, ["tree", "--preset", "tiny", "--out", experiment, ...FAST], /not a 'jepa tree' run/);
});

test("an existing file that gsm8k did not write is refused as --out; its own earlier output is replaced", () => {
  const report = join(ROOT, "report.md");
  writeFileSync(report, "# results of a week of training\n");
  // A byte-level tokenizer reads GSM8K's text, which the digits of PRE's cannot.
  const bytes = join(ROOT, "bpe");
  jepaOk([...pretrainArgs(bytes, 1), "--tokenizer", "bpe:260"]);
  const base = ["gsm8k", "--checkpoint", bytes, "--data", GSM8K, "--limit", "1", "--max-tokens", "2", ...FAST];
  refusedUntouched(ROOT, [...base, "--out", report], /--out .*report\.md already exists and is not a file 'jepa gsm8k' wrote: choose a new file name/);
  const items = join(ROOT, "items.jsonl");
  jepaOk([...base, "--out", items]);
  const first = readFileSync(items, "utf8");
  assert.match(first, /"question"/);
  jepaOk([...base, "--out", items]);
  assert.equal(readFileSync(items, "utf8"), first);
});

test("serve --export refuses an existing file that is not a bundle", () => {
  const run = join(ROOT, "export-run");
  cpSync(PRE, join(run, "talker"), { recursive: true });
  const notes = join(ROOT, "notes.safetensors");
  writeFileSync(notes, "not a bundle\n");
  refusedUntouched(ROOT, ["serve", "--run", run, "--export", notes], /--export .*notes\.safetensors already exists and is not a file 'jepa serve --export' wrote/);
});
