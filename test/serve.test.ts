/**
 * `jepa serve` without a browser: its flags, the headers and bounds of its server, the
 * one-file bundle it exports, and the browser-safe checkpoint reader the page uses. The run
 * served is a tree Talker checkpoint with untrained tiny models, written here in a moment.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TREE_VOCAB } from "../src/data/tree.js";
import { createNodeEngine } from "../src/engine/node.js";
import { Rng } from "../src/engine/rng.js";
import { serializeSafetensors } from "../src/engine/safetensors.js";
import { MODEL_PRESETS } from "../src/model/presets.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import { EMA_NAME, Reasoner } from "../src/model/reasoner.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import { parseBundle } from "../src/train/bundle.js";
import { loadCheckpoint, saveCheckpoint, type TensorGroup } from "../src/train/checkpoint.js";
import { readCheckpointFiles } from "../src/train/checkpoint-files.js";
import { paramsToGroup } from "../src/train/weights.js";

const BIN = fileURLToPath(new URL("../../bin/jepa.js", import.meta.url));
let dir: string;
let run: string;
const servers: ChildProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "jepa-serve-"));
  run = join(dir, "run");
  await writeTinyTalker(join(run, "talker"));
});

after(() => {
  for (const s of servers) s.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

/** A tree experiment's Talker checkpoint (Reasoner + Mono-Talker + EMA target) with untrained tiny models. */
async function writeTinyTalker(out: string): Promise<void> {
  const engine = await createNodeEngine({ threads: 1, memoryMB: 64 });
  const reasonerConfig = { ...MODEL_PRESETS.tiny, vocab: TREE_VOCAB.length };
  const talkerConfig: TalkerConfig = { kind: "mono", latentDim: reasonerConfig.dModel, stack: reasonerConfig, encoderLayers: 0, causal: false };
  const reasoner = new Reasoner(engine, reasonerConfig, new Rng(1));
  const talker = new MonoTalker(engine, talkerConfig, new Rng(2));
  saveCheckpoint(out, {
    config: { kind: "talker", experiment: "tree", talker: talkerConfig, reasoner: reasonerConfig, answer: { start: 46, length: 5 } },
    state: { step: 7, dataPosition: 0, rng: [1, 2, 3, 4], best: null },
    model: paramsToGroup(reasoner.lm.params, "reasoner.", paramsToGroup(talker.params, "talker.")),
    optimizer: null,
    ema: new Map([[`reasoner.${EMA_NAME}`, { shape: reasoner.ema.shape, data: reasoner.ema.view() }]]),
  });
  await engine.close();
}

function sameGroup(a: TensorGroup | null, b: TensorGroup | null): void {
  assert.deepEqual([...(a ?? new Map()).keys()], [...(b ?? new Map()).keys()]);
  for (const [name, t] of a ?? []) assert.deepEqual(t.data, b!.get(name)!.data, name);
}

function jepa(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

test("the page's checkpoint reader reads what loadCheckpoint reads, and refuses a modified file", async () => {
  const talkerDir = join(run, "talker");
  const files = new Map(["state.json", "config.json", "model.safetensors", "ema.safetensors"].map((f) => [f, new Uint8Array(readFileSync(join(talkerDir, f)))]));
  const get = async (name: string) => files.get(name) ?? null;
  const read = await readCheckpointFiles(get, "tiny");
  const disk = loadCheckpoint(talkerDir);
  assert.deepEqual(read.config, disk.config);
  assert.equal(read.state.step, 7);
  sameGroup(read.model, disk.model);
  sameGroup(read.ema, disk.ema);
  files.get("model.safetensors")![100] ^= 1;
  await assert.rejects(readCheckpointFiles(get, "tiny"), { message: "checkpoint file tiny/model.safetensors is truncated or modified (checksum mismatch)" });
  await assert.rejects(readCheckpointFiles(async () => null, "here"), { message: "here is not a checkpoint (it has no state.json)" });
});

test("--export writes one bundle that reads back to the same checkpoint; a modified or foreign file is refused", async () => {
  const file = join(dir, "bundle.safetensors");
  const r = jepa(["serve", "--export", file, "--run", run]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*bundle\.safetensors \(\d+\.\d MB\)/);
  const bytes = new Uint8Array(readFileSync(file));
  const bundle = await parseBundle(bytes, "b");
  const disk = loadCheckpoint(join(run, "talker"));
  assert.deepEqual(bundle.config, disk.config);
  sameGroup(bundle.model, disk.model);
  sameGroup(bundle.ema, disk.ema);
  const again = jepa(["serve", "--export", file, "--run", run]);
  assert.equal(again.status, 0, `exporting again over its own bundle: ${again.stderr}`);
  bytes[bytes.length - 5] ^= 1;
  await assert.rejects(parseBundle(bytes, "b"), { message: "b is truncated or modified (checksum mismatch)" });
  const plain = serializeSafetensors([{ name: "w", dtype: "F32", shape: [1], data: new Float32Array(1) }]);
  await assert.rejects(parseBundle(plain, "w.safetensors"), { message: /^w\.safetensors is a safetensors file but not a checkpoint bundle/ });
  await assert.rejects(parseBundle(new TextEncoder().encode("hello"), "x.txt"), { message: /^x\.txt is not a checkpoint bundle \(safetensors: / });
});

test("bad flags and a missing run get one clear error line and a non-zero exit", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--port", "70000"], /--port must be an integer from 0 to 65535, got '70000'/],
    [["--port", "x"], /--port must be an integer/],
    [["--run", join(dir, "nowhere")], /--run .*nowhere: no such directory/],
    [["--export", join(dir, "b2"), "--port", "1"], /--export writes a file and exits; --port does not apply/],
    [["--export", join(dir, "b3"), "--run", dir], /no such checkpoint directory/],
    [["--colour"], /^jepa: error: serve: Unknown option '--colour'/],
  ];
  for (const [args, pattern] of cases) {
    const r = jepa(["serve", ...args]);
    assert.notEqual(r.status, 0, args.join(" "));
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^jepa: error: /);
    assert.match(lines[0], pattern);
  }
});

/** Starts `jepa serve` on a free port; resolves with its base URL. */
function serve(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  servers.push(child);
  let out = "", err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /http:\/\/\S+\//.exec(out);
      if (m) resolve(m[0]);
    });
    child.on("exit", (code) => reject(new Error(`jepa serve exited with ${code}: ${err}`)));
  });
}

/** A raw GET (or other method) of an exact path, which fetch would normalise. */
function raw(base: string, path: string, method = "GET"): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(base), { path, method }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("serves the page and the run, cross-origin isolated, and nothing outside them", async () => {
  const base = await serve(["--run", run, "--port", "0"]);
  const page = await raw(base, "/");
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>JEPA-Reasoner/);
  assert.equal(page.headers["cross-origin-opener-policy"], "same-origin");
  assert.equal(page.headers["cross-origin-embedder-policy"], "require-corp");
  assert.deepEqual(JSON.parse((await raw(base, "/run.json")).body), { run: basename(run), talker: true });
  const state = await raw(base, "/run/talker/state.json");
  assert.equal(state.status, 200);
  assert.equal(state.headers["content-type"], "application/json; charset=utf-8");
  for (const path of ["/run/../package.json", "/run/%2e%2e/%2e%2e/package.json", "/..%2f..%2fpackage.json", "/nothing.js"]) {
    assert.equal((await raw(base, path)).status, 404, path);
  }
  assert.equal((await raw(base, "/", "POST")).status, 405);
  const port = new URL(base).port;
  const r = jepa(["serve", "--run", run, "--port", port]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), `jepa: error: port ${port} is in use: pass --port N (0 picks a free port)`);
});
