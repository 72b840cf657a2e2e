/**
 * An experiment's run folder records the settings its stages were trained with: a rerun into
 * the same --out with a flag that changes the data or the models is refused with one line
 * naming that flag, and touches nothing; the same flags resume. Real `jepa tree` runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jepaFails, jepaOk, snapshot } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-settings-"));
const OUT = join(ROOT, "tree");
const tree = (out: string, ...extra: string[]) => ["tree", "--preset", "tiny", "--out", out, "--threads", "1", "--memory", "512", "--no-k-sweep", ...extra];

before(() => {
  jepaOk(tree(OUT));
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("a rerun with a flag that changes the data or the model is refused, naming the flag, and nothing is touched", () => {
  const before = snapshot(OUT);
  for (const [extra, flag] of [
    [["--shuffle-edges"], "--shuffle-edges"],
    [["--route-dropout", "0.2"], "--route-dropout"],
    [["--qk-norm", "temp"], "--qk-norm"],
    [["--depth", "3"], "--depth"],
    [["--seed", "2"], "--seed"],
    [["--heads", "1"], "--heads"],
    [["--attn-dim", "64", "--heads", "2"], "--attn-dim"],
    [["--pretrain-loss", "route"], "--pretrain-loss"],
  ] as const) {
    jepaFails(tree(OUT, ...extra), new RegExp(`holds stages trained with other settings: ${flag} differs .*: rerun with the flags it was trained with, or use another --out$`));
  }
  // A difference no flag makes is the preset's.
  jepaFails(["tree", "--preset", "quick", ...tree(OUT).slice(3)], /--preset differs \(preset\.name was "tiny", now "quick"\)/);
  assert.deepEqual(snapshot(OUT), before);
});

test("bad Reasoner sizes and pretraining losses are refused with one line before any work", () => {
  const out = join(ROOT, "never");
  jepaFails(tree(out, "--pretrain-loss", "some"), /--pretrain-loss must be all or route, got 'some'$/);
  jepaFails(tree(out, "--heads", "3"), /--heads 3 does not divide --attn-dim 32$/);
  assert.throws(() => readFileSync(join(out, "settings.json")), /ENOENT/);
});

test("the same flags resume the run", () => {
  const recorded = readFileSync(join(OUT, "settings.json"), "utf8");
  assert.match(jepaOk(tree(OUT)), /exact match/);
  assert.equal(readFileSync(join(OUT, "settings.json"), "utf8"), recorded);
});

test("a run folder where no stage has saved yet takes the new settings", () => {
  const out = join(ROOT, "unsaved");
  mkdirSync(out);
  writeFileSync(join(out, ".jepa-run"), JSON.stringify({ command: "tree" }) + "\n");
  writeFileSync(join(out, "settings.json"), JSON.stringify({ preset: {}, seed: 99 }) + "\n");
  jepaOk(tree(out));
  assert.equal(JSON.parse(readFileSync(join(out, "settings.json"), "utf8")).seed, 1);
});
