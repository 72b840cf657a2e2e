/** The matrix-product interface an engine calls, and its WebAssembly implementation. */
import type { BackendName } from "./backend.js";
import type { Heap } from "./heap.js";
import { matmul } from "./matmul.js";
import type { MatmulParams } from "./matmul-params.js";
import type { KernelPool } from "./pool.js";

/** Computes C = op(A)·op(B) (+ C) on the engine's memory, however the backend does it. */
export interface Gemm {
  readonly backend: BackendName;
  /** What runs the products, for logs and reports (e.g. "OpenBLAS 0.3.21, SkylakeX"). */
  readonly detail: string;
  run(p: MatmulParams): void;
}

/** The WebAssembly SIMD sgemm on the kernel pool's threads. */
export function wasmGemm(pool: KernelPool, heap: Heap, variant: string): Gemm {
  return { backend: "wasm", detail: `WebAssembly ${variant}`, run: (p) => matmul(pool, heap, p) };
}
