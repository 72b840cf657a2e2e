// The arithmetic comparison at a toy size: every phase runs, the report and figures are written,
// a second run resumes from the checkpoints to the same numbers, and `jepa arith` / `jepa gsm8k`
// work on the command line with one-line errors for bad input.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { parseGsm8kJsonl } from "../src/data/gsm8k.js";
import { ARITH_PRESETS } from "../src/experiments/arith-config.js";
import { runArithExperiment } from "../src/experiments/arith.js";
import { headline, writeArithReport } from "../src/experiments/arith-report.js";

const BIN = fileURLToPath(new URL("../../bin/jepa.js", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../../test/fixtures/gsm8k-20.jsonl", import.meta.url));
const FAST = ["--threads", "1", "--memory", "512"];

let engine: Engine;
let dir: string;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 512 });
  dir = mkdtempSync(join(tmpdir(), "jepa-arith-"));
});
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function jepa(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

function failsWith(args: string[], message: RegExp, nothingAt?: string): void {
  const r = jepa(args);
  assert.notEqual(r.status, 0, `jepa ${args.join(" ")} should fail`);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one error line, got:\n${r.stderr}`);
  assert.match(r.stderr, message);
  if (nothingAt) assert.ok(!existsSync(nothingAt), "nothing written");
}

test("the whole pipeline runs, writes its report, and resumes to the same result", async () => {
  const gsm = parseGsm8kJsonl(readFileSync(FIXTURE, "utf8"), "fixture");
  const out = join(dir, "run");
  const lines: string[] = [];
  const options = { preset: ARITH_PRESETS.tiny, seed: 2, outDir: out, gsm8k: { test: gsm.slice(10), exemplars: gsm.slice(0, 10) }, log: (l: string) => lines.push(l) };
  const first = await runArithExperiment(engine, options);
  writeArithReport(first, out, "test");
  for (const f of ["report.md", "metrics.json", "accuracy.svg", "ablation.svg", "pretrain/state.json", "baseline/state.json", "sst/ema.safetensors", "talker/model.safetensors", "data/arith-test.jsonl", "evals/arith-2shot-reasoner.jsonl", "evals/gsm8k-1shot-coupled.jsonl"]) {
    assert.ok(existsSync(join(out, f)), `${f} is missing`);
  }
  assert.equal(first.arith.length, 2);
  assert.deepEqual(first.arith.map((p) => p.shots), [1, 2]);
  assert.equal(first.arith[0].reasoner.count, ARITH_PRESETS.tiny.problems.test);
  assert.equal(first.gsm8k![0].coupled.count, ARITH_PRESETS.tiny.gsm8kLimit);
  assert.deepEqual(first.ablation.conditions.map((c) => c.key), ["clean", "random", "prefix", "gaussian", "mismatch"]);
  for (const c of first.ablation.conditions) assert.ok(c.tokenAccuracy >= 0 && c.tokenAccuracy <= 1 && c.samples.length > 0);
  // Each condition decodes the same problems, and "mismatch" really reads another problem's latents.
  const byKey = Object.fromEntries(first.ablation.conditions.map((c) => [c.key, c]));
  for (const c of first.ablation.conditions) {
    assert.deepEqual(c.samples.map((x) => x.reference), byKey.clean.samples.map((x) => x.reference), c.key);
    assert.equal(c.sourceAccuracy === null, c.key !== "mismatch", c.key);
  }
  for (const x of byKey.mismatch.samples) assert.ok(x.latentsOf !== undefined && x.latentsOf !== x.reference, "mismatched latents come from another problem");
  const report = readFileSync(join(out, "report.md"), "utf8");
  assert.match(report, /51\.9 %/, "Table 6 beside ours");
  assert.match(report, /Talker ablation/);
  assert.match(report, /R improves from 1 to 2 shots/);
  assert.ok(lines.some((l) => /pretrain step 8\/8/.test(l)), "progress lines are printed");
  const config = JSON.parse(readFileSync(join(out, "talker", "config.json"), "utf8"));
  assert.equal(config.tokenizer.kind, "bpe", "the tokenizer is stored in the checkpoint");
  assert.equal(config.answer.start, null, "few-shot prompts differ in length");

  const second = await runArithExperiment(engine, { ...options, log: () => undefined });
  assert.deepEqual(headline({ ...second, seconds: {} }), headline({ ...first, seconds: {} }));
});

test("jepa arith and jepa gsm8k on the command line", () => {
  const out = join(dir, "cli");
  const gsm = join(dir, "gsm8k");
  mkdirSync(gsm);
  cpSync(FIXTURE, join(gsm, "test.jsonl"));
  cpSync(FIXTURE, join(gsm, "train.jsonl"));
  const run = jepa(["arith", "--preset", "tiny", "--out", out, "--gsm8k", gsm, "--tokenizer", "char", ...FAST, "--json"]);
  assert.equal(run.status, 0, run.stderr);
  const h = lastJson(run.stdout);
  for (const key of ["coupled_1shot", "reasoner_2shot", "gsm8k_reasoner_2shot", "reasoner_above_coupled", "reasoner_improves_with_shots", "ablation_clean_token_acc"]) assert.ok(key in h, `--json lacks ${key}`);
  assert.equal(JSON.parse(readFileSync(join(out, "baseline", "config.json"), "utf8")).tokenizer.kind, "char");

  const data = join(out, "data", "arith-test.jsonl");
  const coupled = jepa(["gsm8k", "--checkpoint", join(out, "baseline"), "--data", data, "--shots", "2", "--max-tokens", "8", ...FAST, "--json"]);
  assert.equal(coupled.status, 0, coupled.stderr);
  assert.match(coupled.stdout, /strict-match/);
  assert.deepEqual([lastJson(coupled.stdout).count, lastJson(coupled.stdout).model], [ARITH_PRESETS.tiny.problems.test - 2, "coupled Transformer"], "the 2 exemplars are not evaluated");
  const results = join(dir, "items.jsonl");
  const jepaRun = jepa(["gsm8k", "--checkpoint", join(out, "talker"), "--data", data, "--fewshot", join(out, "data", "arith-train.jsonl"), "--limit", "2", "--max-tokens", "8", "--out", results, ...FAST, "--json"]);
  assert.equal(jepaRun.status, 0, jepaRun.stderr);
  assert.deepEqual([lastJson(jepaRun.stdout).count, lastJson(jepaRun.stdout).shots], [2, 5]);
  assert.equal(readFileSync(results, "utf8").trim().split("\n").length, 2);
  const cot = jepa(["gsm8k", "--checkpoint", join(out, "talker"), "--data", FIXTURE, "--task", "gsm8k_cot", "--shots", "1", "--limit", "1", "--max-tokens", "4", ...FAST, "--json"]);
  assert.equal(cot.status, 0, cot.stderr);
  assert.equal(lastJson(cot.stdout).task, "gsm8k_cot");

  // Other settings do not resume stages trained with these: one line names the flag.
  failsWith(["arith", "--preset", "tiny", "--out", out, "--tokenizer", "bpe:300", ...FAST], /holds stages trained with other settings: --tokenizer differs \(preset\.tokenizer was "char", now "bpe:300"\)/);
  failsWith(["arith", "--preset", "tiny", "--out", out, "--tokenizer", "char", "--seed", "5", ...FAST], /--seed differs \(seed was 1, now 5\)/);

  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, `${JSON.stringify({ question: "q", answer: "#### 1" })}\n{"question": 3}\n`);
  const ckpt = ["--checkpoint", join(out, "baseline")];
  failsWith(["arith", "--preset", "huge", "--out", join(dir, "x")], /unknown arith preset 'huge'/, join(dir, "x"));
  failsWith(["arith", "--preset", "tiny", "--gsm8k", join(dir, "nowhere"), "--out", join(dir, "x")], /--gsm8k .*nowhere: no test.jsonl there/, join(dir, "x"));
  failsWith(["arith", "--tokenizer", "words", "--out", join(dir, "x")], /--tokenizer must be one of/, join(dir, "x"));
  failsWith(["gsm8k", ...ckpt, "--data", bad], /bad\.jsonl:2: needs "question"/);
  failsWith(["gsm8k", ...ckpt, "--data", FIXTURE, "--task", "math"], /--task: unknown task 'math'/);
  failsWith(["gsm8k", ...ckpt, "--data", FIXTURE, "--task", "gsm8k_cot", "--shots", "9"], /--shots must be an integer from 0 to 8/);
  failsWith(["gsm8k", ...ckpt, "--data", FIXTURE, "--task", "gsm8k_cot", "--fewshot", FIXTURE], /--fewshot applies only to --task gsm8k/);
  failsWith(["gsm8k", "--checkpoint", join(out, "sst"), "--data", FIXTURE], /holds a 'reasoner' checkpoint/);
  failsWith(["gsm8k", ...ckpt, "--data", join(dir, "none.jsonl")], /cannot read .*none\.jsonl/);
  failsWith(["gsm8k", ...ckpt, "--data", FIXTURE, "--shots", "20"], /no problems left to evaluate/);
});
