/**
 * Matrix products on the kernel pool: validates the parameters, plans the chunks and packing
 * scratch, and runs asm/matmul.ts (matmul_pack_b, then matmul_f32).
 */
import type { Heap } from "./heap.js";
import type { KernelPool } from "./pool.js";

/** Parameters of one (optionally batched) matrix product C = op(A)·op(B) (+ C). */
export interface MatmulParams {
  a: number; b: number; c: number;       // byte offsets in the heap, f32, row-major contiguous
  m: number; n: number; k: number;       // C is m×n; op(A) is m×k; op(B) is k×n
  transA?: boolean;  // A stored as k×m (row-major) and used transposed
  transB?: boolean;  // B stored as n×k (row-major) and used transposed  (PyTorch Linear weight layout)
  accumulate?: boolean; // C += product instead of C = product
  batch?: number;    // number of independent products (default 1)
  strideA?: number; strideB?: number; strideC?: number; // elements between consecutive matrices of a batch (default: the matrix size; 0 allowed for broadcasting A or B)
}

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
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x3fffffff) throw new Error(`matmul: ${name} must be a positive integer, got ${v}`);
  }
  const batch = p.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`matmul: batch must be a positive integer, got ${batch}`);
  const sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const strideA = stride("strideA", p.strideA, sizeA);
  const strideB = stride("strideB", p.strideB, sizeB);
  const strideC = stride("strideC", p.strideC, sizeC);
  if (batch > 1 && strideC < sizeC) {
    throw new Error(`matmul: strideC (${strideC}) is smaller than the m×n output (${sizeC}), so batch outputs would overlap`);
  }
  const endA = checkRange(heap, "a", a, batch, strideA, sizeA);
  const endB = checkRange(heap, "b", b, batch, strideB, sizeB);
  const endC = checkRange(heap, "c", c, batch, strideC, sizeC);
  // Inputs are packed while C is being written, so C must not share memory with them.
  if (c < endA && a < endC) throw new Error("matmul: c overlaps a (the product cannot be computed in place)");
  if (c < endB && b < endC) throw new Error("matmul: c overlaps b (the product cannot be computed in place)");

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

function stride(name: string, value: number | undefined, size: number): number {
  if (value === undefined) return size;
  if (!Number.isInteger(value) || value < 0) throw new Error(`matmul: ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Checks that a batch of matrices lies inside the memory; returns the byte offset past its end. */
function checkRange(heap: Heap, name: string, ptr: number, batch: number, stride: number, size: number): number {
  if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
    throw new Error(`matmul: ${name} must be a non-negative byte offset that is a multiple of 4, got ${ptr}`);
  }
  const end = ptr + ((batch - 1) * stride + size) * 4;
  if (end > heap.bytes) throw new Error(`matmul: ${name} extends past the end of memory (${end} > ${heap.bytes} bytes)`);
  return end;
}

function roundUp(x: number, unit: number): number {
  return Math.ceil(x / unit) * unit;
}
