/** Matrix-product throughput: 1024³ and the products of a training step of the standard workload. */
import type { Engine } from "../src/engine/engine.js";
import type { Heap } from "../src/engine/heap.js";

/** One product to time: C (m×n) = op(A)·op(B), `batch` times (default 1). */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  batch?: number;
}

/** A benchmark row: a name and its shape. */
export interface NamedMatmulShape extends MatmulShape {
  name: string;
}

/** 1024³ in every transpose combination, then the products of one step (tokens 2048, d 256, MLP 1024, vocab 512). */
export const MATMUL_BENCH_SHAPES: readonly NamedMatmulShape[] = [
  { name: "1024³", m: 1024, n: 1024, k: 1024 },
  { name: "1024³", m: 1024, n: 1024, k: 1024, transB: true },
  { name: "1024³", m: 1024, n: 1024, k: 1024, transA: true },
  { name: "1024³", m: 1024, n: 1024, k: 1024, transA: true, transB: true },
  { name: "fwd qkv x·Wᵀ", m: 2048, n: 768, k: 256, transB: true },
  { name: "fwd mlp-up x·Wᵀ", m: 2048, n: 1024, k: 256, transB: true },
  { name: "fwd mlp-down x·Wᵀ", m: 2048, n: 256, k: 1024, transB: true },
  { name: "fwd logits x·Wᵀ", m: 2048, n: 512, k: 256, transB: true },
  { name: "bwd dX = dY·W", m: 2048, n: 256, k: 768 },
  { name: "bwd dW = dYᵀ·X", m: 768, n: 256, k: 2048, transA: true },
  { name: "attn 64×(128×128×64)", m: 128, n: 128, k: 64, transB: true, batch: 64 },
  { name: "attn 64×(128×64×128)", m: 128, n: 64, k: 128, batch: 64 },
];

/** GFLOP/s of C = op(A)·op(B) for the given shape on the engine's backend, median of repeated runs. */
export function measureMatmul(engine: Engine, shape: MatmulShape, seconds = 1): number {
  const { m, n, k } = shape;
  const heap = engine.heap;
  const batch = shape.batch ?? 1;
  const mark = heap.mark();
  try {
    const a = fillRandom(heap, batch * m * k);
    const b = fillRandom(heap, batch * k * n);
    const c = heap.allocArena(batch * m * n * 4);
    const params = { a, b, c, m, n, k, transA: shape.transA, transB: shape.transB, batch };
    engine.matmul(params); // warm-up: compiles tiers, touches pages
    const times: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    while (times.length < 3 || (performance.now() < deadline && times.length < 1000)) {
      const t0 = performance.now();
      engine.matmul(params);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const median = times[times.length >> 1];
    return (2 * m * n * k * batch) / (median * 1e6);
  } finally {
    heap.release(mark);
  }
}

/** Prints GFLOP/s of every benchmark shape on the engine's backend. */
export function runMatmulBench(engine: Engine, seconds = 1, log: (line: string) => void = console.log): void {
  log(`matmul on ${engine.gemm.detail}, ${engine.threads} thread${engine.threads === 1 ? "" : "s"}`);
  log(`${"product".padEnd(24)} ${"m×n×k".padEnd(16)} ${"op".padEnd(5)} GFLOP/s`);
  for (const s of MATMUL_BENCH_SHAPES) {
    const gflops = measureMatmul(engine, s, seconds);
    const op = `${s.transA ? "T" : "N"}${s.transB ? "T" : "N"}`;
    log(`${s.name.padEnd(24)} ${`${s.m}×${s.n}×${s.k}`.padEnd(16)} ${op.padEnd(5)} ${gflops.toFixed(1).padStart(7)}`);
  }
}

/** Allocates `count` floats in the arena, filled with values in [-1, 1). */
function fillRandom(heap: Heap, count: number): number {
  const ptr = heap.allocArena(count * 4);
  const view = heap.f32.subarray(ptr >> 2, (ptr >> 2) + count);
  let s = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    view[i] = s / 2147483648 - 1;
  }
  return ptr;
}
