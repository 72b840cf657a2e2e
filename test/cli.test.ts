/**
 * End-to-end tests of the `jepa` training, generation and inspection commands: each spawns the
 * real program on a tiny sorting task (test/fixtures/sort-digits.jsonl: "5 digits=sorted").
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { testBackends } from "./helpers/backends.js";

const BIN = fileURLToPath(new URL("../../bin/jepa.js", import.meta.url));
const DATA = fileURLToPath(new URL("../../test/fixtures/sort-digits.jsonl", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "jepa-cli-"));
const FAST = ["--threads", "1", "--memory", "256"];
const BACKENDS = await testBackends();

after(() => rmSync(ROOT, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function jepa(args: string[]): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; returns its last stdout line parsed as JSON (with --json). */
function ok(args: string[]): Record<string, unknown> {
  const r = jepa([...args, "--json"]);
  assert.equal(r.status, 0, `jepa ${args.join(" ")} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** Runs a command that must fail with one `jepa: error:` line matching `pattern`. */
function fails(args: string[], pattern: RegExp): void {
  const r = jepa(args);
  assert.notEqual(r.status, 0, `jepa ${args.join(" ")} should fail`);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
  assert.match(lines[0], /^jepa: error: /);
  assert.match(lines[0], pattern);
}

/** stderr's lines without the note a machine lacking the native backend prints once. */
function errorLines(stderr: string): string[] {
  return stderr.trim().split("\n").filter((l) => !l.startsWith("note: native backend unavailable"));
}

const dir = (name: string) => join(ROOT, name);
const pretrainArgs = (out: string, steps: number) => ["pretrain", "--data", DATA, "--out", out, "--preset", "tiny", "--steps", String(steps), ...FAST];

function assertFiles(out: string, files: string[]): void {
  for (const f of files) assert.ok(existsSync(join(out, f)), `${out} lacks ${f}`);
}

describe("jepa CLI", () => {
  test("pretrain → sst → talker → generate → inspect, and the baseline", () => {
    const pre = dir("pre"), sst = dir("sst"), talk = dir("talk"), dual = dir("dual"), base = dir("base");
    const p = ok([...pretrainArgs(pre, 150), "--eval-every", "50"]);
    assert.equal(p.steps, 150);
    assertFiles(pre, ["config.json", "model.safetensors", "optimizer.safetensors", "state.json", "metrics.jsonl", "best/model.safetensors"]);
    const losses = readFileSync(join(pre, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { loss: number }).loss);
    assert.equal(losses.length, 150);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-10)) < 0.8 * mean(losses.slice(0, 10)), `loss did not fall: ${mean(losses.slice(0, 10))} → ${mean(losses.slice(-10))}`);

    ok(["sst", "--init", pre, "--data", DATA, "--out", sst, "--steps", "40", ...FAST]);
    assertFiles(sst, ["config.json", "model.safetensors", "optimizer.safetensors", "ema.safetensors", "state.json"]);
    const t = ok(["talker", "--reasoner", sst, "--data", DATA, "--out", talk, "--talker-preset", "tiny", "--steps", "40", ...FAST]);
    assert.ok(t.eval && typeof (t.eval as Record<string, number>).exact === "number");
    assertFiles(talk, ["config.json", "model.safetensors", "optimizer.safetensors", "ema.safetensors", "state.json"]);

    const g = ok(["generate", "--checkpoint", talk, "--prompt", "31415=", ...FAST]) as { latents: Array<{ norm: number; nearest: unknown[] }>; tokens: number[]; text: string };
    assert.equal(g.latents.length, 5, "one latent per answer token by default");
    for (const l of g.latents) {
      assert.ok(Math.abs(l.norm - 1) < 1e-3);
      assert.equal(l.nearest.length, 3);
    }
    assert.equal(g.tokens.length, 5);
    const human = jepa(["generate", "--checkpoint", talk, "--prompt", "31415=", "--no-cache", ...FAST]);
    assert.equal(human.status, 0, human.stderr);
    assert.equal(human.stdout.trim().split("\n").pop(), `mono-talker: ${g.text}`, "cached and uncached rollouts agree");

    ok(["talker", "--reasoner", sst, "--data", DATA, "--out", dual, "--kind", "dual", "--talker-preset", "tiny", "--steps", "20", ...FAST]);
    const d = ok(["generate", "--checkpoint", dual, "--tokens", "5,3,6,3,7,12", "--max-tokens", "3", ...FAST]) as { tokens: number[] };
    assert.equal(d.tokens.length, 3);
    const b = ok(["baseline", "--init", pre, "--data", DATA, "--out", base, "--steps", "20", ...FAST]);
    assert.equal(b.steps, 20);

    const kinds: Array<[string, string]> = [[pre, "transformer"], [sst, "reasoner"], [talk, "talker"], [base, "transformer"]];
    for (const [ckpt, kind] of kinds) {
      const info = ok(["inspect", "--checkpoint", ckpt]) as { kind: string; tensors: Array<{ group: string; name: string }> };
      assert.equal(info.kind, kind);
      assert.ok(info.tensors.length > 0);
    }
    const info = ok(["inspect", "--checkpoint", talk]) as { config: { role?: string }; tensors: Array<{ group: string; name: string }> };
    const names = info.tensors.map((x) => `${x.group}:${x.name}`);
    for (const n of ["model:talker.lm_head.weight", "model:reasoner.wte.weight", "ema:reasoner.ema.wte.weight"]) assert.ok(names.includes(n), `talker checkpoint lacks ${n}`);
  });

  for (const backend of BACKENDS) test(`a killed pretrain resumes to bit-identical weights (${backend})`, async (t) => {
    const args = (out: string) => [...pretrainArgs(out, 40), "--checkpoint-every", "10", "--eval-every", "10", "--batch", "1024", "--backend", backend];
    const whole = dir(`whole-${backend}`), killed = dir(`killed-${backend}`);
    const reference = runChild(args(whole));
    const victim = spawn(process.execPath, [BIN, ...args(killed)], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => victim.on("exit", (code) => resolve(code)));
    while (victim.exitCode === null && victim.signalCode === null) {
      const step = savedStep(killed);
      if (step >= 10 && step < 40) {
        victim.kill("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    const stepAtKill = savedStep(killed);
    assert.ok(victim.signalCode === "SIGKILL", "the run finished before it could be killed (make it slower)");
    assert.ok(stepAtKill >= 10 && stepAtKill < 40, `checkpoint at step ${stepAtKill} after the kill`);
    t.diagnostic(`killed with its checkpoint at step ${stepAtKill}`);

    const resumed = jepa(args(killed));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming from step/);
    assert.equal(await reference, 0);
    for (const f of ["model.safetensors", "optimizer.safetensors", "state.json", "metrics.jsonl", "best/model.safetensors"]) {
      assert.ok(readFileSync(join(killed, f)).equals(readFileSync(join(whole, f))), `${f} differs after resuming from step ${stepAtKill}`);
    }
  });

  test("a checkpoint does not depend on the backend that wrote it", (t) => {
    if (!BACKENDS.includes("native")) return t.skip("native backend unavailable");
    const outs = { wasm: dir("on-wasm"), native: dir("on-native") };
    for (const [backend, out] of Object.entries(outs)) ok([...pretrainArgs(out, 10), "--backend", backend]);
    assert.ok(readFileSync(join(outs.wasm, "config.json")).equals(readFileSync(join(outs.native, "config.json"))), "config.json differs");
    // The weights differ in their last bits (each backend sums in its own order), hence the checksums.
    const state = (out: string) => ({ ...JSON.parse(readFileSync(join(out, "state.json"), "utf8")), files: null, checksum: null });
    assert.deepEqual(state(outs.native), state(outs.wasm));
    const tensors = (out: string) => (ok(["inspect", "--checkpoint", out]) as { tensors: unknown[] }).tensors.length;
    assert.equal(tensors(outs.native), tensors(outs.wasm));
    ok(["sst", "--init", outs.native, "--data", DATA, "--out", dir("sst-on-wasm"), "--steps", "3", ...FAST, "--backend", "wasm"]);
  });

  test("--backend: a bad value is one error line; native where it cannot load says why", () => {
    fails([...pretrainArgs(dir("never-backend"), 5), "--backend", "gpu"], /--backend must be one of wasm, native, auto, got 'gpu'/);
    const missing = { ...process.env, JEPA_OPENBLAS: join(ROOT, "no-such-libopenblas.so") };
    const native = spawnSync(process.execPath, [BIN, ...pretrainArgs(dir("never-native"), 5), "--backend", "native"], { encoding: "utf8", env: missing });
    assert.notEqual(native.status, 0);
    assert.match(native.stderr.trim(), /^jepa: error: --backend native: OpenBLAS not found \(tried .*no-such-libopenblas\.so/);
    assert.equal(native.stderr.trim().split("\n").length, 1, native.stderr);
    const auto = spawnSync(process.execPath, [BIN, ...pretrainArgs(dir("auto-falls-back"), 5), "--json"], { encoding: "utf8", env: missing });
    assert.equal(auto.status, 0, auto.stderr);
    const notes = auto.stderr.split("\n").filter((l) => /native backend unavailable/.test(l));
    assert.equal(notes.length, 1, auto.stderr);
    assert.match(notes[0], /matrix products run on WebAssembly: OpenBLAS not found/);
  });

  test("bad input: one error line, non-zero exit, nothing left behind", () => {
    const pre = dir("bad-pre"), sst = dir("bad-sst"), talk = dir("bad-talk"), none = dir("never");
    ok(pretrainArgs(pre, 5));
    ok(["sst", "--init", pre, "--data", DATA, "--out", sst, "--steps", "5", ...FAST]);
    ok(["talker", "--reasoner", sst, "--data", DATA, "--out", talk, "--talker-preset", "tiny", "--steps", "5", ...FAST]);

    fails([...pretrainArgs(none, 5), "--bogus"], /Unknown option '--bogus'/);
    fails(["pretrain", "--data", DATA, "--out", none, "--steps", "5", "--preset", "huge", ...FAST], /unknown model preset 'huge'/);
    fails([...pretrainArgs(none, 5), "--heads", "3"], /--heads 3/);
    fails([...pretrainArgs(none, 5), "--lr", "0"], /--lr must be/);
    const bad = dir("bad.jsonl");
    writeFileSync(bad, '{"text":"12=12","loss_start":3}\n{"text":"21=12","loss_start":3}\n{"text":"3=3",\n');
    fails(["pretrain", "--data", bad, "--out", none, "--preset", "tiny", ...FAST], /bad\.jsonl:3:/);
    fails(["sst", "--init", talk, "--data", DATA, "--out", none, ...FAST], /'talker' checkpoint, expected 'transformer'/);
    fails(["talker", "--reasoner", pre, "--data", DATA, "--out", none, ...FAST], /'transformer' checkpoint, expected 'reasoner'/);
    fails(["sst", "--init", pre, "--data", DATA, "--out", none, "--layers", "1", ...FAST], /--layers is not accepted/);
    assert.ok(!existsSync(none), "a failed command left its --out behind");

    const before = readFileSync(join(pre, "state.json"));
    fails([...pretrainArgs(pre, 5), "--lr", "0.01"], /configuration differs/);
    assert.ok(readFileSync(join(pre, "state.json")).equals(before), "a refused resume changed the checkpoint");

    fails(["generate", "--checkpoint", talk, "--prompt", "12a4=", ...FAST], /character "a" at position 2/);
    fails(["generate", "--checkpoint", talk, "--tokens", "3,99", ...FAST], /'99' is not a token id/);
    fails(["inspect", "--checkpoint", ROOT], /is not a checkpoint/);
    fails(["nonsense"], /unknown command 'nonsense'/);

    const tampered = dir("tampered");
    cpSync(talk, tampered, { recursive: true });
    const bytes = readFileSync(join(tampered, "model.safetensors"));
    bytes[bytes.length - 5] ^= 0x01;
    writeFileSync(join(tampered, "model.safetensors"), bytes);
    fails(["generate", "--checkpoint", tampered, "--prompt", "12345=", ...FAST], /checksum mismatch/);
    fails(["inspect", "--checkpoint", tampered], /checksum mismatch/);
  });

  test("talker on answers that start at different indices, then generate", () => {
    const data = dir("varying.jsonl"), pre = dir("vary-pre"), sst = dir("vary-sst"), talk = dir("vary-talk"), none = dir("vary-never");
    varyingStartsData(data, 60);
    ok(["pretrain", "--data", data, "--out", pre, "--preset", "tiny", "--steps", "10", ...FAST]);
    ok(["sst", "--init", pre, "--data", data, "--out", sst, "--steps", "5", ...FAST]);
    const t = ok(["talker", "--reasoner", sst, "--data", data, "--out", talk, "--talker-preset", "tiny", "--steps", "10", ...FAST]);
    assert.equal(typeof (t.eval as Record<string, number>).exact, "number");
    const info = ok(["inspect", "--checkpoint", talk]) as { config: { answer: { start: number | null; length: number } } };
    assert.deepEqual(info.config.answer, { start: null, length: 5 }, "each example's own start, the longest answer");
    for (const prompt of ["312=", "93157="]) {
      const g = ok(["generate", "--checkpoint", talk, "--prompt", prompt, ...FAST]) as { prompt_tokens: number[]; latents: unknown[]; tokens: number[] };
      assert.equal(g.prompt_tokens.length, prompt.length, "the whole prompt is the context; the answer starts after it");
      assert.equal(g.latents.length, 5);
      assert.equal(g.tokens.length, 5);
    }

    const base = ["talker", "--reasoner", sst, "--data", data, "--out", none, "--talker-preset", "tiny", "--steps", "1", ...FAST];
    fails([...base, "--loss", "all"], /--loss all needs every answer .* to start at the same index/);
    const longer = dir("varying-longer.jsonl");
    writeFileSync(longer, JSON.stringify({ text: "654321=123456", loss_start: 7 }) + "\n");
    fails([...base, "--eval", longer], /varying-longer\.jsonl: evaluation answers are longer than the training answers \(6 > 5 tokens\)/);
    assert.ok(!existsSync(none), "a failed command left its --out behind");
  });

  test("pretrain --tokenizer: a BPE learned from the data, reused by sst; bad specs refused", () => {
    const data = dir("sentences.jsonl"), pre = dir("bpe-pre"), sst = dir("bpe-sst"), none = dir("bpe-never");
    sentencesData(data);
    ok(["pretrain", "--data", data, "--out", pre, "--preset", "tiny", "--steps", "3", "--tokenizer", "bpe:300", ...FAST]);
    const info = ok(["inspect", "--checkpoint", pre]) as { config: { model: { vocab: number }; tokenizer: { kind: string; merges: unknown[] } } };
    assert.equal(info.config.tokenizer.kind, "bpe");
    assert.ok(info.config.tokenizer.merges.length > 0 && info.config.tokenizer.merges.length <= 300 - 258, `${info.config.tokenizer.merges.length} merges`);
    assert.equal(info.config.model.vocab, 258 + info.config.tokenizer.merges.length, "the model is sized by the tokenizer");
    const human = jepa(["inspect", "--checkpoint", pre]);
    assert.match(human.stdout, /"tokenizer":"bpe \(\d+ merges\)"/);
    ok(["sst", "--init", pre, "--data", data, "--out", sst, "--steps", "2", ...FAST]);
    const sstInfo = ok(["inspect", "--checkpoint", sst]) as { config: { tokenizer: unknown } };
    assert.deepEqual(sstInfo.config.tokenizer, info.config.tokenizer, "sst reads the data with the pretrained tokenizer");

    const args = ["pretrain", "--data", data, "--out", none, "--preset", "tiny", "--steps", "1", ...FAST];
    fails([...args, "--tokenizer", "words"], /--tokenizer must be one of char, bpe:N .*, got 'words'/);
    fails([...args, "--tokenizer", "bpe:10"], /--tokenizer bpe:N must be an integer from 258 to 65536, got '10'/);
    fails([...args, "--tokenizer", "bpe:100000"], /--tokenizer bpe:N must be an integer from 258 to 65536/);
    const ids = dir("ids.jsonl");
    writeFileSync(ids, '{"tokens":[1,2,3]}\n{"tokens":[3,2,1]}\n');
    fails(["pretrain", "--data", ids, "--out", none, "--preset", "tiny", "--tokenizer", "char", ...FAST], /--tokenizer applies to text datasets, but .*ids\.jsonl holds token ids/);
    fails(["sst", "--init", pre, "--data", data, "--out", none, "--tokenizer", "char", ...FAST], /Unknown option '--tokenizer'/);
    assert.ok(!existsSync(none), "a failed command left its --out behind");
  });
});

/** Sorting 3 to 5 digits ("312=123"): the answers start at index 4, 5 or 6. */
function varyingStartsData(path: string, n: number): void {
  let x = 12345;
  const digit = () => Math.floor((10 * (x = (x * 48271) % 2147483647)) / 2147483647);
  const lines = Array.from({ length: n }, (_, i) => {
    const digits = Array.from({ length: 3 + (i % 3) }, digit);
    const text = `${digits.join("")}=${[...digits].sort().join("")}`;
    return JSON.stringify({ text, loss_start: digits.length + 1 });
  });
  writeFileSync(path, lines.join("\n") + "\n");
}

/** Short sentences of repeated words, so a BPE learns merges. */
function sentencesData(path: string): void {
  const lines: string[] = [];
  for (const who of ["the cat", "the dog", "a bird"]) {
    for (const did of ["sat on", "ran to", "looked at"]) {
      for (const what of ["the mat", "the hill", "a tree"]) lines.push(JSON.stringify({ text: `${who} ${did} ${what}.` }));
    }
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

/** The step of the checkpoint in dir, or -1 when there is none yet. */
function savedStep(out: string): number {
  try {
    return (JSON.parse(readFileSync(join(out, "state.json"), "utf8")) as { step: number }).step;
  } catch {
    return -1;
  }
}

/** Runs a jepa command in the background; resolves to its exit code. */
function runChild(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: "ignore" });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}
