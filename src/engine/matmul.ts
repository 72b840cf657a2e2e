/**
 * Matrix products on the kernel pool: validates the parameters, plans the chunks and packing
 * scratch, and runs asm/matmul.ts (matmul_pack_b, then matmul_f32).
 */
import type { Heap } from "./heap.js";
import type { KernelPool } from "./pool.js";
import { checkMatmul, type MatmulParams } from "./matmul-params.js";

export type { MatmulParams } from "./matmul-params.js";

// Must match asm/matmul.ts.
const NR = 8;
const KC = 256;
const MC = 120;
const MR_MAX = 6;
const TILE_BYTES = 256;
const TRANS_A = 1;
const TRANS_B = 2;
const ACCUMULATE = 4;
const LOCAL_B = 8;

/** Row chunks are multiples of this (both tile heights, 5 and 6, divide it). */
const ROW_UNIT = 30;
/** Smallest chunk worth a claim, in flops (about 50-100 µs of one thread). */
const MIN_CHUNK_FLOPS = 4e6;
/** Chunks per thread, so a slow vCPU takes fewer of them. */
const CHUNKS_PER_THREAD = 8;
/** Largest B block a chunk packs into its own scratch (bytes). */
const LOCAL_B_MAX_BYTES = 4 << 20;
/** Largest shared packed-B buffer (bytes); bigger batches are run in groups. */
const SHARED_B_MAX_BYTES = 64 << 20;

interface Plan {
  batchPerChunk: number;
  rowsPerChunk: number;
  colsPerChunk: number;
  chunks: number;
}

/** Runs C = op(A)·op(B) (+ C) on the pool's threads. */
export function matmul(pool: KernelPool, heap: Heap, p: MatmulParams): void {
  const { a, b, c, m, n, k } = p;
  const { batch, strideA, strideB, strideC } = checkMatmul(heap.bytes, p);

  const flags = (p.transA ? TRANS_A : 0) | (p.transB ? TRANS_B : 0) | (p.accumulate ? ACCUMULATE : 0);
  const plan = planChunks(m, n, k, batch, pool.threads);
  const wholeItems = plan.rowsPerChunk >= m && plan.colsPerChunk >= n;
  const localB = wholeItems && strideB !== 0 && KC * roundUp(n, NR) * 4 <= LOCAL_B_MAX_BYTES;
  const scratchBytes = roundUp(TILE_BYTES + (MC + MR_MAX) * KC * 4 + (localB ? KC * roundUp(plan.colsPerChunk, NR) * 4 : 0), 64);

  const mark = heap.mark();
  try {
    const scratch = heap.allocArena(scratchBytes * pool.threads);
    if (localB) {
      runProduct(pool, [a, b, c, m, n, k, flags | LOCAL_B, strideA, strideB, strideC, 0, 0, scratch, scratchBytes], batch, plan);
      return;
    }
    // Shared packing: each B item packed once for all chunks, in groups that bound the buffer.
    const np = Math.ceil(n / NR);
    const packedItem = k * np * NR;
    const group = strideB === 0 ? batch : Math.max(1, Math.min(batch, Math.floor(SHARED_B_MAX_BYTES / (packedItem * 4))));
    const bp = heap.allocArena(packedItem * 4 * (strideB === 0 ? 1 : group));
    const panelsPerChunk = Math.max(1, Math.ceil(np / Math.max(1, Math.ceil((2 * pool.threads) / group))));
    const panelGroups = Math.ceil(np / panelsPerChunk);
    for (let g0 = 0; g0 < batch; g0 += group) {
      const items = Math.min(group, batch - g0);
      const ag = a + g0 * strideA * 4, bg = b + g0 * strideB * 4, cg = c + g0 * strideC * 4;
      // A broadcast B (stride 0) is packed once for every item.
      if (strideB !== 0 || g0 === 0) {
        pool.run("matmul_pack_b", [bg, n, k, flags, strideB, bp, panelsPerChunk], (strideB === 0 ? 1 : items) * panelGroups);
      }
      const groupPlan = items === batch ? plan : planChunks(m, n, k, items, pool.threads);
      runProduct(pool, [ag, bg, cg, m, n, k, flags, strideA, strideB, strideC, bp, strideB === 0 ? 0 : packedItem, scratch, scratchBytes], items, groupPlan);
    }
  } finally {
    heap.release(mark);
  }
}

function runProduct(pool: KernelPool, args: number[], batch: number, plan: Plan): void {
  pool.run("matmul_f32", [...args, batch, plan.batchPerChunk, plan.rowsPerChunk, plan.colsPerChunk], plan.chunks);
}

/**
 * Splits the work into a few dynamic chunks: whole batch items when there are enough of
 * them, else row blocks (multiples of ROW_UNIT), else column blocks (multiples of NR).
 */
function planChunks(m: number, n: number, k: number, batch: number, threads: number): Plan {
  const flops = 2 * m * n * k * batch;
  const want = Math.max(1, Math.min(Math.floor(flops / MIN_CHUNK_FLOPS), CHUNKS_PER_THREAD * threads));
  if (want <= batch) {
    const batchPerChunk = Math.floor(batch / want);
    return { batchPerChunk, rowsPerChunk: m, colsPerChunk: n, chunks: Math.ceil(batch / batchPerChunk) };
  }
  const perItem = Math.ceil(want / batch);
  const rowSplit = Math.min(perItem, Math.ceil(m / ROW_UNIT));
  const rowsPerChunk = rowSplit <= 1 ? m : roundUp(Math.ceil(m / rowSplit), ROW_UNIT);
  const rowChunks = Math.ceil(m / rowsPerChunk);
  const colSplit = Math.min(Math.ceil(perItem / rowChunks), Math.ceil(n / NR));
  const colsPerChunk = colSplit <= 1 ? n : roundUp(Math.ceil(n / colSplit), NR);
  const colChunks = Math.ceil(n / colsPerChunk);
  return { batchPerChunk: 1, rowsPerChunk, colsPerChunk, chunks: batch * rowChunks * colChunks };
}

function roundUp(x: number, unit: number): number {
  return Math.ceil(x / unit) * unit;
}
