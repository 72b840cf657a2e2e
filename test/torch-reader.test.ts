/**
 * The independent PyTorch reader (python/jepa_torch, written from docs/checkpoint-format.md)
 * against the engine: the same latent chain from the same prompt within 1e-5, and the same
 * Mono- and Dual-Talker logits, on small checkpoints that cover the spec's variants (QK-Norm
 * paper / temp / none, attnScale, attention width ≠ model width, in_proj, a causal Mono-Talker)
 * and on a tree run's Talker checkpoint read through the tree vocabulary. Needs PyTorch
 * (`/usr/bin/python3` with `python3-torch`); without it the test is skipped and says why.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import { parseSafetensors, toFloat32, toInt32, type TensorEntry } from "../src/engine/safetensors.js";
import { encodeTree } from "../src/data/tree.js";
import { DualTalker } from "../src/model/dual-talker.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { groupToParams } from "../src/train/weights.js";
import { FAST, jepaFails, jepaOk } from "./helpers/jepa-cli.js";
import { writeTalkerCheckpoint, type TalkerSpec } from "./helpers/talker-checkpoint.js";

const PYTHON = "/usr/bin/python3";
const PACKAGE = fileURLToPath(new URL("../../python", import.meta.url));
const TORCH = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
const SKIP = TORCH.status === 0 ? false : `PyTorch is missing (${PYTHON} -c "import torch" failed; install the Debian package python3-torch)`;
const PROMPT = "93157=";

const base = { normEps: 1e-5, ropeBase: 10000 };
const CASES: Record<string, TalkerSpec> = {
  "temp Reasoner (attnScale 1.5, A ≠ D), paper Mono-Talker with in_proj": {
    reasoner: { ...base, dModel: 16, layers: 2, heads: 3, attnDim: 24, mlpDim: 32, attnScale: 1.5, qkNorm: "temp", qkTemp: 4 },
    talker: { kind: "mono", stack: { ...base, dModel: 24, layers: 2, heads: 2, attnDim: 16, mlpDim: 40 }, encoderLayers: 0, causal: false },
    answerLength: 6,
  },
  "paper Reasoner, temp Dual-Talker with in_proj": {
    reasoner: { ...base, dModel: 16, layers: 2, heads: 4, attnDim: 32, mlpDim: 32 },
    talker: { kind: "dual", stack: { ...base, dModel: 20, layers: 2, heads: 2, attnDim: 16, mlpDim: 24, qkNorm: "temp" }, encoderLayers: 2, causal: false },
    answerLength: 5,
  },
  "no QK-Norm, causal Mono-Talker at the latent width": {
    reasoner: { ...base, dModel: 16, layers: 1, heads: 2, attnDim: 16, mlpDim: 32, qkNorm: "none", ropeBase: 500 },
    talker: { kind: "mono", stack: { ...base, dModel: 16, layers: 1, heads: 4, attnDim: 16, mlpDim: 16, qkNorm: "none" }, encoderLayers: 0, causal: true },
    answerLength: 4,
  },
};

describe("the PyTorch reader gives the engine's latents and Talker logits", { skip: SKIP }, () => {
  const root = mkdtempSync(join(tmpdir(), "jepa-torch-"));
  let engine: Engine;
  before(async () => {
    engine = await createNodeEngine({ threads: 1, memoryMB: 256 });
    Object.values(CASES).forEach((spec, n) => writeTalkerCheckpoint(engine, join(root, `case${n}`), spec, 11 + n));
  });
  after(async () => {
    await engine.close();
    rmSync(root, { recursive: true, force: true });
  });

  Object.keys(CASES).forEach((name, n) => {
    test(name, () => compare(engine, join(root, `case${n}`), ["--prompt", PROMPT], ["--prompt", PROMPT]));
  });

  test("the reader writes numbers as ECMAScript does, so it can verify state.json's checksum", () => {
    const values = [1e-6, 1e-7, 1.5e21, 1e21, 123456789012345680000, 2.2156789302825928, 0.1, -3.5e-9, 100, 1e16, 5e-324, 0.30000000000000004];
    const code = `import json, sys; from jepa_torch.checkpoint import js_number; print(json.dumps([js_number(float(x)) for x in json.loads(sys.argv[1])]))`;
    const py = spawnSync(PYTHON, ["-c", code, JSON.stringify(values)], { encoding: "utf8", env: { ...process.env, PYTHONPATH: PACKAGE } });
    assert.equal(py.status, 0, py.stderr);
    assert.deepEqual(JSON.parse(py.stdout), values.map(String));
  });

  test("the reader refuses a modified checkpoint with one line, as the engine does", () => {
    const dir = join(root, "tampered");
    cpSync(join(root, "case0"), dir, { recursive: true });
    const model = readFileSync(join(dir, "model.safetensors"));
    model[model.length - 1] ^= 1;
    writeFileSync(join(dir, "model.safetensors"), model);
    const py = spawnSync(PYTHON, ["-m", "jepa_torch.latents", "--run", dir, "--prompt", PROMPT, "--out", join(root, "tampered.safetensors")], {
      encoding: "utf8", env: { ...process.env, PYTHONPATH: PACKAGE },
    });
    assert.equal(py.status, 1);
    assert.match(py.stderr, /^jepa_torch: error: .*model\.safetensors is truncated or modified \(checksum mismatch\)\n$/);
    jepaFails(["generate", "--checkpoint", dir, "--prompt", PROMPT, ...FAST], /model\.safetensors is truncated or modified \(checksum mismatch\)/);
  });

  test("a tree run's Talker checkpoint, the prompt read through its recorded vocabulary", () => {
    const run = join(root, "tree");
    jepaOk(["tree", "--preset", "tiny", "--out", run, "--no-k-sweep", ...FAST]);
    const text = "NL,NO,LJ,LI,OA,OM,JB,JH,IG,IF,AD,AE,MK,MC[ROOT]N[TARGET]K[ROUTE]";
    compare(engine, join(run, "talker"), ["--tokens", encodeTree(text).join(",")], ["--prompt", text]);
  });
});

/** Runs both implementations on the checkpoint in dir and compares latents and logits. */
function compare(engine: Engine, dir: string, jepaPrompt: string[], torchPrompt: string[]): void {
  const ours = join(dir, "..", `${dir.split("/").pop()}-engine.safetensors`);
  const theirs = join(dir, "..", `${dir.split("/").pop()}-torch.safetensors`);
  jepaOk(["generate", "--checkpoint", dir, ...jepaPrompt, "--latents", ours, ...FAST]);
  const py = spawnSync(PYTHON, ["-m", "jepa_torch.latents", "--run", dir, ...torchPrompt, "--out", theirs, "--talker"], {
    encoding: "utf8", env: { ...process.env, PYTHONPATH: PACKAGE, OMP_NUM_THREADS: "1" },
  });
  assert.equal(py.status, 0, `jepa_torch.latents failed:\n${py.stderr}`);
  const a = read(ours), b = read(theirs);
  assert.equal(a.metadata.prompt_tokens, b.metadata.prompt_tokens, "both read the same prompt ids");
  const chain = a.tensors.get("latents")!, torchChain = b.tensors.get("latents")!;
  assert.deepEqual(torchChain.shape, chain.shape);
  const latentGap = maxGap(toFloat32(chain), toFloat32(torchChain));
  assert.ok(latentGap <= 1e-5, `latents differ by ${latentGap}`);
  const torchLogits = toFloat32(b.tensors.get("logits")!);
  const logits = engineLogits(engine, dir, toFloat32(chain), chain.shape, b.tensors.get("decoder_tokens"));
  const scale = Math.max(1, ...torchLogits.map(Math.abs));
  const logitGap = maxGap(logits, torchLogits) / scale;
  assert.ok(logitGap <= 1e-5, `Talker logits differ by ${logitGap} (relative to the largest, ${scale})`);
}

/** The Talker's logits in the engine for the chain (S, D): Mono over the chain, Dual on the decoder inputs PyTorch read. */
function engineLogits(engine: Engine, dir: string, chain: Float32Array, shape: number[], decoderTokens?: TensorEntry): Float32Array {
  const ckpt = loadCheckpoint(dir, ["talker"]);
  const config = ckpt.config.talker as TalkerConfig;
  const latents = engine.fromArray(chain, [1, shape[0], shape[1]]);
  if (config.kind === "mono") {
    const talker = new MonoTalker(engine, config, new Rng(0));
    groupToParams(ckpt.model, talker.params, "talker.");
    return engine.noGrad(() => talker.logits(latents)).view().slice();
  }
  assert.ok(decoderTokens, "the PyTorch reader wrote the Dual-Talker's decoder inputs");
  const ids = toInt32(decoderTokens);
  const talker = new DualTalker(engine, config, new Rng(0));
  groupToParams(ckpt.model, talker.params, "talker.");
  const tokens = engine.fromArray(ids, [1, ids.length], { dtype: "i32" });
  return engine.noGrad(() => talker.decode(tokens, talker.encode(latents))).view().slice();
}

function read(path: string) {
  return parseSafetensors(new Uint8Array(readFileSync(path)));
}

function maxGap(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, "same number of values");
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
