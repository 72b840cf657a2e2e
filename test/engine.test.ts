// Engine behaviour: determinism across runs and thread counts, learning, clear errors.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { compileKernels } from "../src/engine/kernels.js";
import { Heap } from "../src/engine/heap.js";
import { Rng } from "../src/engine/rng.js";
import { AdamW, clipFactor, gradNorm, NonFiniteError } from "../src/engine/optim.js";
import { checkStepFinite } from "../src/engine/check.js";
import { warmupCosine } from "../src/engine/schedule.js";
import { emaUpdate } from "../src/engine/ema.js";
import { matmul } from "../src/engine/ops/linalg.js";
import { add } from "../src/engine/ops/basic.js";
import { embedding } from "../src/engine/ops/embedding.js";
import { TransformerLM } from "../src/model/transformer.js";
import type { TransformerConfig } from "../src/model/config.js";

const TINY: TransformerConfig = { vocab: 16, dModel: 32, layers: 2, heads: 2, attnDim: 32, mlpDim: 64, normEps: 1e-5, ropeBase: 10000 };

/** Trains a tiny LM on a fixed repeating sequence; returns its losses and final weights. */
function trainTiny(engine: Engine, steps: number, seed = 3) {
  const model = new TransformerLM(engine, TINY, new Rng(seed));
  const params = model.params.list();
  const opt = new AdamW(engine, params, { lr: 1e-2, weightDecay: 0 });
  const batch = 4, seq = 12;
  // Each row counts upward from its own start, so the next token is fully predictable.
  const tokens = Int32Array.from({ length: batch * seq }, (_, i) => (Math.floor(i / seq) * 3 + (i % seq)) % TINY.vocab);
  const targets = Int32Array.from({ length: batch * seq }, (_, i) => (i % seq === seq - 1 ? -1 : (tokens[i] + 1) % TINY.vocab));
  const schedule = warmupCosine(1e-2, 5, steps);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = model.loss(engine.fromArray(tokens, [batch, seq], { dtype: "i32" }), engine.fromArray(targets, [batch, seq], { dtype: "i32" }));
    losses.push(loss.item());
    engine.backward(loss);
    checkStepFinite(engine, step, loss.item(), params);
    opt.update(schedule(step), clipFactor(gradNorm(engine, params), 1));
    opt.zeroGrad();
    engine.endStep();
  }
  return { losses, weights: params.map((p) => p.toArray()), model, params };
}

function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  return a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

let one: Engine;
let two: Engine;
before(async () => {
  one = await createNodeEngine({ threads: 1, memoryMB: 128 });
  two = await createNodeEngine({ threads: 2, memoryMB: 128 });
});
after(async () => {
  await one.close();
  await two.close();
});

describe("training", () => {
  test("a tiny LM learns a counting sequence (loss falls below 5% of its start)", () => {
    const { losses } = trainTiny(two, 60);
    assert.ok(losses[0] > 2, `initial loss ${losses[0]}`);
    assert.ok(losses.at(-1)! < 0.05 * losses[0], `final loss ${losses.at(-1)} from ${losses[0]}`);
  });

  test("the same seed gives bit-identical weights, on 1 thread and on 2 threads", () => {
    const a = trainTiny(two, 5).weights;
    const b = trainTiny(two, 5).weights;
    const c = trainTiny(one, 5).weights;
    assert.ok(sameBits(a, b), "two runs on 2 threads differ");
    assert.ok(sameBits(a, c), "1 thread and 2 threads differ");
    assert.ok(!sameBits(a, trainTiny(two, 5, 4).weights), "a different seed should give different weights");
  });

  test("a NaN gradient stops training with the step and the tensor named", () => {
    const { model, params } = trainTiny(two, 1);
    const w = model.params.get("blocks.1.mlp.fc.weight");
    w.view()[5] = Number.NaN;
    const tokens = two.fromArray(new Int32Array(8).fill(1), [1, 8], { dtype: "i32" });
    const loss = model.loss(tokens, tokens);
    two.backward(loss);
    assert.throws(() => checkStepFinite(two, 7, loss.item(), params), (err: Error) => err instanceof NonFiniteError && /step 7/.test(err.message));
    params.forEach((p) => (p.grad!.view().fill(0)));
    w.view()[5] = 0;
    two.fill(params[0].grad!.ptr, params[0].size, 0);
    params[2].grad!.view()[3] = Number.POSITIVE_INFINITY;
    assert.throws(() => checkStepFinite(two, 9, 1.5, params), new RegExp(`gradient of ${params[2].name.replace(/\./g, "\\.")} at step 9`));
    two.endStep();
  });
});

describe("pieces", () => {
  test("the RNG is reproducible and its state round-trips", () => {
    const a = new Rng(42);
    const first = [a.nextU32(), a.nextU32()];
    const saved = a.getState();
    const next = [a.normal(), a.uniform()];
    const b = new Rng(42);
    assert.deepEqual([b.nextU32(), b.nextU32()], first);
    const c = new Rng(0);
    c.setState(saved);
    assert.deepEqual([c.normal(), c.uniform()], next);
    const normals = new Rng(9).normals(20000);
    const mean = normals.reduce((s, v) => s + v, 0) / normals.length;
    const variance = normals.reduce((s, v) => s + v * v, 0) / normals.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  });

  test("warmup + cosine schedule", () => {
    const lr = warmupCosine(1, 10, 110, 0.1);
    assert.equal(lr(0), 0.1);
    assert.equal(lr(9), 1);
    assert.ok(Math.abs(lr(60) - 0.55) < 1e-12);
    assert.equal(lr(110), 0.1);
  });

  test("EMA update moves the target toward the online weights", () => {
    const target = two.fromArray([0, 10], [2]);
    emaUpdate(target, two.fromArray([1, 0], [2]), 0.98);
    const [x, y] = target.view();
    assert.ok(Math.abs(x - 0.02) < 1e-6 && Math.abs(y - 9.8) < 1e-5, `got ${x}, ${y}`);
    two.endStep();
  });
});

describe("bad input", () => {
  test("mismatched shapes name both operands", () => {
    const a = two.zeros([2, 3], { name: "a" }), b = two.zeros([4, 5], { name: "b" });
    assert.throws(() => matmul(a, b), /matmul: inner sizes differ: a\[2, 3\] · b\[4, 5\]/);
    assert.throws(() => add(a, b), /add: shapes differ/);
    two.endStep();
  });

  test("an unknown kernel is an error, not a silent no-op", () => {
    assert.throws(() => two.pool.run("no_such_kernel", [], 1), /unknown kernel 'no_such_kernel'/);
  });

  test("token ids outside the vocabulary are refused", () => {
    const table = two.zeros([4, 2]);
    assert.throws(() => embedding(table, two.fromArray([1, 4], [2], { dtype: "i32" })), /token id 4 at position 1 is outside the vocabulary \[0, 4\)/);
    two.endStep();
  });

  test("running out of engine memory says what to change", () => {
    assert.throws(() => two.empty([1024, 1024, 64]), /engine memory exhausted \(128 MB\): pass a larger --memory/);
    two.endStep();
  });

  test("a kernel module that is missing or corrupt gives a clear error", async () => {
    await assert.rejects(compileKernels(async () => { throw new Error("ENOENT"); }), /cannot read kernel module kernels(-relaxed)?\.wasm \(run `npm run build`\): ENOENT/);
    await assert.rejects(compileKernels(async () => new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])), /kernel module kernels(-relaxed)?\.wasm failed to compile/);
  });

  test("invalid memory and thread counts are refused", async () => {
    assert.throws(() => new Heap(5), /memory must be an integer between 16 and 4096 MB/);
    await assert.rejects(createNodeEngine({ threads: 0, memoryMB: 32 }), /threads must be an integer from 1 to 256/);
  });
});
