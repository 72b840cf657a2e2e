// Latent rollout and Talker decoding: the KV cache changes nothing, latents sit on the unit
// sphere, and the chain is untouched by whatever the Talker samples (error containment).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { Rng } from "../src/engine/rng.js";
import { Reasoner } from "../src/model/reasoner.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import { DualTalker } from "../src/model/dual-talker.js";
import type { TransformerConfig } from "../src/model/config.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import { latentNorms, rollout, rolloutUntil } from "../src/infer/rollout.js";
import { dualTalk, monoTalk } from "../src/infer/talk.js";
import { sampleToken } from "../src/infer/sampling.js";

const CONFIG: TransformerConfig = { vocab: 20, dModel: 32, layers: 2, heads: 4, attnDim: 32, mlpDim: 64, normEps: 1e-5, ropeBase: 10000 };
const talkerConfig = (kind: "mono" | "dual"): TalkerConfig => ({ kind, latentDim: 32, stack: { ...CONFIG, layers: 1 }, encoderLayers: 1, causal: false });

let engine: Engine;
let reasoner: Reasoner;
before(async () => {
  engine = await createNodeEngine({ threads: 2, memoryMB: 128 });
  reasoner = new Reasoner(engine, CONFIG, new Rng(11));
});
after(async () => {
  await engine.close();
});

function prompt(rows: number[][]) {
  return engine.fromArray(rows.flat(), [rows.length, rows[0].length], { dtype: "i32" });
}

function bits(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
}

describe("latent rollout", () => {
  test("the KV cache gives the same chain as recomputing the prefix", () => {
    const p = prompt([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
    const cached = rollout(reasoner, p, { steps: 6 }).toArray();
    const recomputed = rollout(reasoner, p, { steps: 6, cache: false }).toArray();
    let worst = 0;
    for (let i = 0; i < cached.length; i++) worst = Math.max(worst, Math.abs(cached[i] - recomputed[i]));
    assert.ok(worst < 1e-5, `max difference ${worst}`);
    engine.endStep();
  });

  test("every latent has norm 1 within 1e-5, and batch rows do not interact", () => {
    const both = rollout(reasoner, prompt([[1, 2, 3], [4, 5, 6]]), { steps: 5 });
    for (const n of latentNorms(both)) assert.ok(Math.abs(n - 1) < 1e-5, `norm ${n}`);
    const rowA = both.toArray().slice(0, 5 * 32);
    const alone = rollout(reasoner, prompt([[1, 2, 3]]), { steps: 5 }).toArray();
    assert.equal(bits(rowA), bits(alone));
    engine.endStep();
  });

  test("latent noise is seeded and scales with the largest element", () => {
    const p = prompt([[1, 2, 3]]);
    const clean = rollout(reasoner, p, { steps: 3 }).toArray();
    const noisy = (seed: number) => rollout(reasoner, p, { steps: 3, noise: { scale: 0.1, relativeToMax: true, rng: new Rng(seed) } }).toArray();
    const a = noisy(1);
    assert.equal(bits(a), bits(noisy(1)));
    assert.notEqual(bits(a), bits(noisy(2)));
    assert.notEqual(bits(a), bits(clean));
    engine.endStep();
  });
});

describe("stop rule", () => {
  test("a chain ends at the first latent nearest to the stop token, and matches the full rollout's prefix", () => {
    const p = prompt([[1, 2, 3]]);
    const full = rollout(reasoner, p, { steps: 6 }).toArray();
    const D = CONFIG.dModel;
    // Row 2 of the table is latent 4 itself, so the chain stops there at the latest.
    const rng = new Rng(8);
    const table = engine.fromArray([...rng.normals(2 * D), ...full.subarray(3 * D, 4 * D)], [3, D]);
    const stopped = rolloutUntil(reasoner, p, { steps: 6, stop: { table, token: 2 } });
    const n = stopped.lengths[0];
    assert.ok(n >= 1 && n <= 4, `stopped after ${n} latents`);
    assert.equal(stopped.latents.shape[1], n, "the rollout ends as soon as every row has stopped");
    assert.equal(bits(stopped.latents.toArray()), bits(full.slice(0, n * D)));
    assert.throws(() => rolloutUntil(reasoner, p, { steps: 3, stop: { table, token: 9 } }), /token in \[0, 3\)/);
    engine.endStep();
  });
});

describe("error containment", () => {
  test("Mono-Talker: sampling with any seed or temperature leaves the chain bit-identical", () => {
    const talker = new MonoTalker(engine, talkerConfig("mono"), new Rng(3));
    const p = prompt([[3, 1, 4, 1, 5]]);
    const reference = bits(rollout(reasoner, p, { steps: 4 }).toArray());
    const outputs = new Set<string>();
    for (const [seed, temperature] of [[1, 0], [2, 1.5], [3, 3]] as const) {
      const latents = rollout(reasoner, p, { steps: 4 });
      const tokens = monoTalk(talker, latents, { temperature, rng: new Rng(seed) });
      outputs.add(tokens.flat().join(","));
      assert.equal(bits(latents.toArray()), reference, "the chain changed after decoding");
    }
    assert.ok(outputs.size > 1, "the Talker's outputs should differ across seeds, or the test proves nothing");
    engine.endStep();
  });

  test("Dual-Talker: corrupting every produced token leaves the chain and its encoding unchanged", () => {
    const talker = new DualTalker(engine, talkerConfig("dual"), new Rng(4));
    const p = prompt([[2, 7, 1, 8]]);
    const latents = rollout(reasoner, p, { steps: 5 });
    const before = bits(latents.toArray());
    const memoryBefore = bits(engine.noGrad(() => talker.encode(latents)).toArray());
    const clean = dualTalk(talker, latents, { prefix: [[8]], maxTokens: 5 });
    const corrupted = dualTalk(talker, latents, { prefix: [[8]], maxTokens: 5, onToken: (_r, _p, t) => (t + 7) % CONFIG.vocab });
    assert.notDeepEqual(clean, corrupted);
    assert.equal(bits(latents.toArray()), before);
    assert.equal(bits(engine.noGrad(() => talker.encode(latents)).toArray()), memoryBefore);
    assert.equal(bits(rollout(reasoner, p, { steps: 5 }).toArray()), before, "a fresh rollout must reproduce the chain");
    engine.endStep();
  });
});

describe("sampling", () => {
  test("greedy picks the argmax; top-k never leaves the top k; temperature needs an rng", () => {
    const logits = [0.1, 2, -1, 1.9, 0];
    assert.equal(sampleToken(logits), 1);
    const rng = new Rng(5);
    const seen = new Set(Array.from({ length: 200 }, () => sampleToken(logits, { temperature: 1, topK: 2, rng })));
    assert.deepEqual([...seen].sort(), [1, 3]);
    assert.throws(() => sampleToken(logits, { temperature: 1 }), /needs a seeded rng/);
  });
});
