/**
 * Matrix products by OpenBLAS, straight on the engine's shared WebAssembly memory (cblas_sgemm
 * reads and writes the tensors where they are: no copies). OpenBLAS's own threads do the work,
 * as many as the pool has, while the pool's workers sleep, so the cores are never oversubscribed.
 */
import type { Gemm } from "./gemm.js";
import type { Heap } from "./heap.js";
import { checkMatmul, type MatmulParams } from "./matmul-params.js";
import { CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS, type OpenBlas } from "./openblas.js";
import type { KernelPool } from "./pool.js";

/** A Gemm that runs every product, batch item by batch item, through cblas_sgemm. */
export function nativeGemm(blas: OpenBlas, pool: KernelPool, heap: Heap): Gemm {
  const base = blas.addressOf(heap.memory.buffer);
  const run = (p: MatmulParams): void => {
    const { batch, strideA, strideB, strideC } = checkMatmul(heap.bytes, p);
    const { m, n, k } = p;
    const transA = p.transA ? CBLAS_TRANS : CBLAS_NO_TRANS;
    const transB = p.transB ? CBLAS_TRANS : CBLAS_NO_TRANS;
    // Row-major leading dimensions: a stored matrix's row length.
    const lda = p.transA ? m : k, ldb = p.transB ? k : n;
    // beta = 0 makes OpenBLAS overwrite C without reading it (the arena may hold NaNs).
    const beta = p.accumulate ? 1 : 0;
    blas.useThreads(pool.threads);
    pool.park();
    for (let g = 0; g < batch; g++) {
      blas.sgemm(CBLAS_ROW_MAJOR, transA, transB, m, n, k, 1,
        base + p.a + g * strideA * 4, lda, base + p.b + g * strideB * 4, ldb, beta, base + p.c + g * strideC * 4, n);
    }
  };
  // e.g. "OpenBLAS 0.3.21, SkylakeX kernels": the version, then the kernel set it chose for this CPU.
  const detail = `${blas.config.split(" ").slice(0, 2).join(" ")}, ${blas.corename} kernels`;
  return { backend: "native", detail, run: (p) => pool.timed("sgemm (OpenBLAS)", () => run(p)) };
}
