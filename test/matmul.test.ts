// Matrix products on every backend against a float64 reference: all four transpose combinations,
// accumulation, batches with strides and broadcasting, and determinism.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startNodeEngine, type EngineParts } from "../src/engine/node.js";
import type { MatmulParams } from "../src/engine/matmul.js";
import { random } from "./helpers/random.js";
import { testBackends } from "./helpers/backends.js";

interface Case {
  m: number; n: number; k: number;
  transA?: boolean; transB?: boolean; accumulate?: boolean;
  batch?: number; strideA?: number; strideB?: number; strideC?: number;
}

/** Float64 reference of the same product, including accumulate and batch strides. */
function reference(cs: Case, a: Float32Array, b: Float32Array, c0: Float32Array): Float64Array {
  const { m, n, k } = cs;
  const batch = cs.batch ?? 1;
  const sA = cs.strideA ?? m * k, sB = cs.strideB ?? k * n, sC = cs.strideC ?? m * n;
  const out = Float64Array.from(c0);
  for (let g = 0; g < batch; g++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = cs.transA ? a[g * sA + p * m + i] : a[g * sA + i * k + p];
          const bv = cs.transB ? b[g * sB + j * k + p] : b[g * sB + p * n + j];
          sum += av * bv;
        }
        const o = g * sC + i * n + j;
        out[o] = (cs.accumulate ? out[o] : 0) + sum;
      }
    }
  }
  return out;
}

function lengthOf(batch: number, stride: number, size: number): number {
  return (batch - 1) * stride + size;
}

/** Runs the case on an engine; returns the inputs and C as computed. */
function run(engine: EngineParts, cs: Case, seed = 1) {
  const { heap } = engine;
  const batch = cs.batch ?? 1;
  const { m, n, k } = cs;
  const a = random(lengthOf(batch, cs.strideA ?? m * k, m * k), seed);
  const b = random(lengthOf(batch, cs.strideB ?? k * n, k * n), seed + 1);
  const c0 = random(lengthOf(batch, cs.strideC ?? m * n, m * n), seed + 2);
  const mark = heap.mark();
  try {
    const pa = heap.allocArena(a.length * 4), pb = heap.allocArena(b.length * 4), pc = heap.allocArena(c0.length * 4);
    heap.f32.set(a, pa >> 2);
    heap.f32.set(b, pb >> 2);
    heap.f32.set(c0, pc >> 2);
    const params: MatmulParams = { ...cs, a: pa, b: pb, c: pc };
    engine.gemm.run(params);
    const c = heap.f32.slice(pc >> 2, (pc >> 2) + c0.length);
    return { a, b, c0, c };
  } finally {
    heap.release(mark);
  }
}

function check(engine: EngineParts, cs: Case): void {
  const { a, b, c0, c } = run(engine, cs);
  const ref = reference(cs, a, b, c0);
  let scale = 1;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-5 * Math.sqrt(cs.k) * scale + 1e-6;
  let worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(c[i] - ref[i]);
    if (!(err <= worst)) { worst = err; at = i; }
  }
  assert.ok(worst <= tol, `${JSON.stringify(cs)}: max error ${worst} at ${at} (tolerance ${tol})`);
}

const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
  { transA: true, transB: true },
];

for (const backend of await testBackends()) {
  describe(`matmul on ${backend}`, () => {
    let two: EngineParts;
    let one: EngineParts;
    before(async () => {
      two = await startNodeEngine({ threads: 2, memoryMB: 256, backend });
      one = await startNodeEngine({ threads: 1, memoryMB: 256, backend });
    });
    after(async () => {
      await two.pool.close();
      await one.pool.close();
    });

    test("matmul matches a float64 reference for all transposes and odd sizes", () => {
      const sizes: Array<[number, number, number]> = [
        [1, 1, 1], [3, 5, 7], [5, 8, 13], [13, 7, 33], [33, 67, 5], [67, 33, 129],
        [129, 67, 257], [7, 129, 300], [61, 17, 513], [1, 67, 33], [67, 1, 33], [33, 67, 1],
      ];
      for (const t of TRANSPOSES) {
        for (const [m, n, k] of sizes) {
          check(two, { m, n, k, ...t });
          check(two, { m, n, k, ...t, accumulate: true });
        }
      }
    });

    test("matmul handles large single products split into many chunks", () => {
      for (const t of TRANSPOSES) {
        check(two, { m: 250, n: 203, k: 270, ...t });
        check(two, { m: 7, n: 1030, k: 300, ...t, accumulate: true });
      }
    });

    test("batched matmul with strides, padding between items and broadcasting", () => {
      for (const t of TRANSPOSES) {
        check(two, { m: 13, n: 7, k: 33, batch: 5, ...t });
        check(two, { m: 33, n: 20, k: 17, batch: 40, ...t, accumulate: true });
        check(two, { m: 9, n: 11, k: 5, batch: 3, strideA: 60, strideB: 70, strideC: 120, ...t });
        check(two, { m: 37, n: 29, k: 67, batch: 6, strideA: 0, ...t });
        check(two, { m: 37, n: 29, k: 67, batch: 6, strideB: 0, ...t, accumulate: true });
        check(two, { m: 130, n: 70, k: 300, batch: 3, strideB: 0, ...t });
        check(two, { m: 130, n: 70, k: 60, batch: 3, ...t });
      }
    });

    test("batched matmul whose packed B exceeds the shared buffer runs in groups", () => {
      // Each item's packed B is about 34 MB, so the 64 MB buffer holds one item at a time.
      check(two, { m: 2, n: 4100, k: 2048, batch: 2, transB: true });
    });

    test("matmul results are bit-identical run to run, and on wasm with 1 and 2 threads", () => {
      const cases: Case[] = [
        { m: 257, n: 131, k: 517, transB: true, accumulate: true },
        { m: 300, n: 70, k: 600, transA: true },
        { m: 5, n: 1000, k: 64 },
        { m: 64, n: 48, k: 70, batch: 24, transA: true, transB: true },
        { m: 64, n: 48, k: 70, batch: 24, strideB: 0 },
      ];
      for (const cs of cases) {
        const x = run(two, cs, 7).c;
        assert.deepEqual(new Uint32Array(x.buffer), new Uint32Array(run(two, cs, 7).c.buffer), `run to run: ${JSON.stringify(cs)}`);
        // OpenBLAS does not promise the same bits on another thread count; ours does.
        if (backend === "wasm") assert.deepEqual(new Uint32Array(x.buffer), new Uint32Array(run(one, cs, 7).c.buffer), `1 and 2 threads: ${JSON.stringify(cs)}`);
      }
    });

    test("without accumulate, C is overwritten even where it held NaN (arena memory is not cleared)", () => {
      const { heap, gemm } = two;
      const mark = heap.mark();
      try {
        const [m, n, k] = [33, 20, 17];
        const a = heap.allocArena(m * k * 4), b = heap.allocArena(k * n * 4), c = heap.allocArena(m * n * 4);
        heap.f32.fill(1, a >> 2, (a >> 2) + m * k);
        heap.f32.fill(2, b >> 2, (b >> 2) + k * n);
        heap.f32.fill(Number.NaN, c >> 2, (c >> 2) + m * n);
        gemm.run({ a, b, c, m, n, k });
        assert.ok(heap.f32.subarray(c >> 2, (c >> 2) + m * n).every((v) => v === 2 * k));
      } finally {
        heap.release(mark);
      }
    });

    test("matmul rejects invalid arguments with clear errors", () => {
      const { gemm, heap } = two;
      const matmul = (p: MatmulParams) => gemm.run(p);
      const base = { a: 1 << 20, b: 2 << 20, c: 3 << 20, m: 4, n: 4, k: 4 };
      assert.throws(() => matmul({ ...base, m: 0 }), /m must be a positive integer/);
      assert.throws(() => matmul({ ...base, k: 2.5 }), /k must be a positive integer/);
      assert.throws(() => matmul({ ...base, batch: 0 }), /batch must be a positive integer/);
      assert.throws(() => matmul({ ...base, strideA: -1 }), /strideA must be a non-negative integer/);
      assert.throws(() => matmul({ ...base, batch: 2, strideC: 0 }), /strideC .* overlap/);
      assert.throws(() => matmul({ ...base, a: 6 }), /a must be .* multiple of 4/);
      assert.throws(() => matmul({ ...base, c: heap.bytes - 16 }), /c extends past the end of memory/);
      assert.throws(() => matmul({ ...base, c: base.a + 32 }), /c overlaps a/);
      assert.throws(() => matmul({ ...base, c: base.b }), /c overlaps b/);
    });
  });
}
