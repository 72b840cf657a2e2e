// Single-precision matrix products C = op(A)·op(B) (+ C), optionally batched.
//
// GotoBLAS/BLIS structure: op(B) is packed into column panels of NR = 8 (KC rows at a time,
// zero-padded past n), op(A) into strips of MR rows (zero-padded past m), and a register
// micro-kernel computes an MR×8 tile of C from one A strip and one B panel. MR is 5 with plain
// SIMD (10 f32x4 accumulators + 2 B vectors + 1 splat = 13 of V8's ~15 usable vector
// registers) and 6 with relaxed-SIMD fused multiply-add. The loop over panels is outside the
// loop over strips, so a B panel (KC×8) stays in L1 while the packed A block (MC×KC) sits in L2.
//
// Every element of C gets the same summation order whatever the chunking: k is walked in
// fixed KC blocks, each block summed in order inside one micro-kernel call, then added to C.

/** Columns of a packed B panel (two f32x4). */
const NR: i32 = 8;
/** Rows of a micro-kernel tile. */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Depth of a k block. */
const KC: i32 = 256;
/** Rows of A packed at a time (a multiple of 5 and 6). */
const MC: i32 = 120;

const TRANS_A: i32 = 1;
const TRANS_B: i32 = 2;
const ACCUMULATE: i32 = 4;
const LOCAL_B: i32 = 8;

/** Bytes of per-thread scratch before the packed A block: one spare tile for edge stores. */
const TILE_BYTES: usize = 256;

/** Packs op(B)[p0..p0+kc, j0..j1) into 8-column panels of kc rows each, zero-padded past j1. */
function packB(b: usize, n: i32, k: i32, transB: bool, p0: i32, kc: i32, j0: i32, j1: i32, dst: usize): void {
  for (let j = j0; j < j1; j += NR) {
    const w = min(NR, j1 - j);
    if (!transB) packPanelRows(b + ((<usize>p0 * <usize>n + <usize>j) << 2), <usize>n << 2, kc, w, dst);
    else packPanelCols(b + ((<usize>j * <usize>k + <usize>p0) << 2), <usize>k << 2, kc, w, dst);
    dst += <usize>kc * <usize>NR << 2;
  }
}

/** Panel from row-major op(B): row p of the panel is `w` consecutive floats of source row p. */
function packPanelRows(src: usize, rowBytes: usize, kc: i32, w: i32, dst: usize): void {
  if (w == NR) {
    for (let p = 0; p < kc; p++) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      src += rowBytes;
      dst += 32;
    }
    return;
  }
  for (let p = 0; p < kc; p++) {
    for (let jj = 0; jj < NR; jj++) {
      store<f32>(dst + (<usize>jj << 2), jj < w ? load<f32>(src + (<usize>jj << 2)) : 0);
    }
    src += rowBytes;
    dst += 32;
  }
}

/** Panel from op(B) = Bᵀ: column jj of the panel is `kc` consecutive floats of source row jj. */
function packPanelCols(src: usize, rowBytes: usize, kc: i32, w: i32, dst: usize): void {
  let p = 0;
  if (w == NR) {
    for (; p + 4 <= kc; p += 4) {
      const s = src + (<usize>p << 2);
      transpose4(s, rowBytes, dst + (<usize>p << 5));
      transpose4(s + (rowBytes << 2), rowBytes, dst + (<usize>p << 5) + 16);
    }
  }
  for (; p < kc; p++) {
    const d = dst + (<usize>p << 5);
    for (let jj = 0; jj < NR; jj++) {
      store<f32>(d + (<usize>jj << 2), jj < w ? load<f32>(src + <usize>jj * rowBytes + (<usize>p << 2)) : 0);
    }
  }
}

/** Reads a 4×4 block (rows `rowBytes` apart) and writes its transpose as 4 rows 32 bytes apart. */
// @ts-ignore: decorator
@inline function transpose4(s: usize, rowBytes: usize, d: usize): void {
  const r0 = v128.load(s);
  const r1 = v128.load(s + rowBytes);
  const r2 = v128.load(s + rowBytes * 2);
  const r3 = v128.load(s + rowBytes * 3);
  const u0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const u1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const u2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const u3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(d, i32x4.shuffle(u0, u2, 0, 1, 4, 5));
  v128.store(d, i32x4.shuffle(u0, u2, 2, 3, 6, 7), 32);
  v128.store(d, i32x4.shuffle(u1, u3, 0, 1, 4, 5), 64);
  v128.store(d, i32x4.shuffle(u1, u3, 2, 3, 6, 7), 96);
}

/** Packs op(A)[i0..i0+mc, p0..p0+kc) into strips of MR rows (kc×MR each), zero-padded past mc. */
function packA(a: usize, m: i32, k: i32, transA: bool, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  const stripBytes = <usize>kc * <usize>MR << 2;
  if (transA) {
    packStripsCols(a + ((<usize>p0 * <usize>m + <usize>i0) << 2), <usize>m << 2, kc, mc, dst, stripBytes);
    return;
  }
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    packStripRows(a + ((<usize>(i0 + ir) * <usize>k + <usize>p0) << 2), <usize>k << 2, kc, rows, dst);
    dst += stripBytes;
  }
}

/** Strip from row-major op(A): `rows` source rows, each kc consecutive floats. */
function packStripRows(src: usize, rowBytes: usize, kc: i32, rows: i32, dst: usize): void {
  const step = <usize>MR << 2;
  if (rows == MR) {
    // Four k values at a time: transpose rows 0-3 with shuffles, interleave rows 4 (and 5).
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      const s = src + (<usize>p << 2);
      const r0 = v128.load(s);
      const r1 = v128.load(s + rowBytes);
      const r2 = v128.load(s + rowBytes * 2);
      const r3 = v128.load(s + rowBytes * 3);
      const r4 = v128.load(s + rowBytes * 4);
      const u0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const u1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const u2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const u3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const d = dst + <usize>p * step;
      if (MR == 6) {
        const r5 = v128.load(s + rowBytes * 5);
        const q0 = i32x4.shuffle(r4, r5, 0, 4, 1, 5);
        const q1 = i32x4.shuffle(r4, r5, 2, 6, 3, 7);
        v128.store(d, i32x4.shuffle(u0, u2, 0, 1, 4, 5));
        v128.store64_lane(d, q0, 0, 16);
        v128.store(d, i32x4.shuffle(u0, u2, 2, 3, 6, 7), 24);
        v128.store64_lane(d, q0, 1, 40);
        v128.store(d, i32x4.shuffle(u1, u3, 0, 1, 4, 5), 48);
        v128.store64_lane(d, q1, 0, 64);
        v128.store(d, i32x4.shuffle(u1, u3, 2, 3, 6, 7), 72);
        v128.store64_lane(d, q1, 1, 88);
      } else {
        v128.store(d, i32x4.shuffle(u0, u2, 0, 1, 4, 5));
        v128.store32_lane(d, r4, 0, 16);
        v128.store(d, i32x4.shuffle(u0, u2, 2, 3, 6, 7), 20);
        v128.store32_lane(d, r4, 1, 36);
        v128.store(d, i32x4.shuffle(u1, u3, 0, 1, 4, 5), 40);
        v128.store32_lane(d, r4, 2, 56);
        v128.store(d, i32x4.shuffle(u1, u3, 2, 3, 6, 7), 60);
        v128.store32_lane(d, r4, 3, 76);
      }
    }
    for (; p < kc; p++) {
      const d = dst + <usize>p * step;
      for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), load<f32>(src + <usize>r * rowBytes + (<usize>p << 2)));
    }
    return;
  }
  for (let r = 0; r < MR; r++) {
    let d = dst + (<usize>r << 2);
    if (r < rows) {
      const s = src + <usize>r * rowBytes;
      for (let p = 0; p < kc; p++) {
        store<f32>(d, load<f32>(s + (<usize>p << 2)));
        d += step;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        store<f32>(d, 0);
        d += step;
      }
    }
  }
}

/**
 * Strips from op(A) = Aᵀ: row p of strip s is MR consecutive floats of source row p. Walks
 * the source row by row (one contiguous read of mc floats) and scatters to all strips.
 */
function packStripsCols(src: usize, rowBytes: usize, kc: i32, mc: i32, dst: usize, stripBytes: usize): void {
  const full = mc / MR;
  const rest = mc - full * MR;
  const step = <usize>MR << 2;
  for (let p = 0; p < kc; p++) {
    let s = src;
    let d = dst + <usize>p * step;
    for (let ir = 0; ir < full; ir++) {
      v128.store(d, v128.load(s));
      if (MR == 6) store<u64>(d, load<u64>(s, 16), 16);
      else store<f32>(d, load<f32>(s, 16), 16);
      s += step;
      d += stripBytes;
    }
    if (rest > 0) {
      for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < rest ? load<f32>(s + (<usize>r << 2)) : 0);
    }
    src += rowBytes;
  }
}

/** Writes (or adds) one 8-wide row of a full tile. */
// @ts-ignore: decorator
@inline function storeRow(c: usize, v0: v128, v1: v128, add: bool): void {
  if (add) {
    v0 = f32x4.add(v128.load(c), v0);
    v1 = f32x4.add(v128.load(c, 16), v1);
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/** Copies the valid rows×cols corner of the tile in `tmp` (rows 32 bytes apart) into C. */
function storePartial(tmp: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool): void {
  for (let r = 0; r < rows; r++) {
    const t = tmp + (<usize>r << 5);
    const d = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(t + o);
      store<f32>(d + o, add ? load<f32>(d + o) + v : v);
    }
  }
}

/** C tile (rows ≤ 5, cols ≤ 8) = or += one packed A strip (kc×5) times one B panel (kc×8). */
function kernel5x8(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, rows: i32, cols: i32, add: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00;
  let c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 16);
    c40 = f32x4.add(c40, f32x4.mul(a, b0));
    c41 = f32x4.add(c41, f32x4.mul(a, b1));
    ap += 20;
    bp += 32;
  }
  if (rows == 5 && cols == NR) {
    storeRow(c, c00, c01, add);
    storeRow(c + ldc, c10, c11, add);
    storeRow(c + ldc * 2, c20, c21, add);
    storeRow(c + ldc * 3, c30, c31, add);
    storeRow(c + ldc * 4, c40, c41, add);
    return;
  }
  storeRow(tmp, c00, c01, false);
  storeRow(tmp + 32, c10, c11, false);
  storeRow(tmp + 64, c20, c21, false);
  storeRow(tmp + 96, c30, c31, false);
  storeRow(tmp + 128, c40, c41, false);
  storePartial(tmp, c, ldc, rows, cols, add);
}

/** C tile (rows ≤ 6, cols ≤ 8) with fused multiply-add (relaxed SIMD only). */
function kernel6x8(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, rows: i32, cols: i32, add: bool, tmp: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (let p = 0; p < kc; p++) {
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      let a = v128.load32_splat(ap);
      c00 = f32x4.relaxed_madd(a, b0, c00);
      c01 = f32x4.relaxed_madd(a, b1, c01);
      a = v128.load32_splat(ap, 4);
      c10 = f32x4.relaxed_madd(a, b0, c10);
      c11 = f32x4.relaxed_madd(a, b1, c11);
      a = v128.load32_splat(ap, 8);
      c20 = f32x4.relaxed_madd(a, b0, c20);
      c21 = f32x4.relaxed_madd(a, b1, c21);
      a = v128.load32_splat(ap, 12);
      c30 = f32x4.relaxed_madd(a, b0, c30);
      c31 = f32x4.relaxed_madd(a, b1, c31);
      a = v128.load32_splat(ap, 16);
      c40 = f32x4.relaxed_madd(a, b0, c40);
      c41 = f32x4.relaxed_madd(a, b1, c41);
      a = v128.load32_splat(ap, 20);
      c50 = f32x4.relaxed_madd(a, b0, c50);
      c51 = f32x4.relaxed_madd(a, b1, c51);
      ap += 24;
      bp += 32;
    }
    if (rows == 6 && cols == NR) {
      storeRow(c, c00, c01, add);
      storeRow(c + ldc, c10, c11, add);
      storeRow(c + ldc * 2, c20, c21, add);
      storeRow(c + ldc * 3, c30, c31, add);
      storeRow(c + ldc * 4, c40, c41, add);
      storeRow(c + ldc * 5, c50, c51, add);
      return;
    }
    storeRow(tmp, c00, c01, false);
    storeRow(tmp + 32, c10, c11, false);
    storeRow(tmp + 64, c20, c21, false);
    storeRow(tmp + 96, c30, c31, false);
    storeRow(tmp + 128, c40, c41, false);
    storeRow(tmp + 160, c50, c51, false);
    storePartial(tmp, c, ldc, rows, cols, add);
  }
}

/**
 * Packs op(B) of batch items (strideB elements apart) into panels for matmul_f32: item g,
 * k block starting at p0, panel jp lies at bp + 4·(g·k·NP·8 + p0·NP·8 + jp·kc·8), NP =
 * ceil(n/8). Chunk c covers `panelsPerChunk` panels of item c / ceil(NP / panelsPerChunk).
 */
export function matmul_pack_b(
  b: usize, n: i32, k: i32, flags: i32, strideB: i32, bp: usize, panelsPerChunk: i32, chunk: i32, tid: i32,
): void {
  const np = (n + NR - 1) / NR;
  const groups = (np + panelsPerChunk - 1) / panelsPerChunk;
  const g = chunk / groups;
  const j0 = (chunk % groups) * panelsPerChunk * NR;
  const j1 = min(n, j0 + panelsPerChunk * NR);
  const src = b + ((<usize>g * <usize>strideB) << 2);
  const base = bp + ((<usize>g * <usize>k * <usize>np * <usize>NR) << 2);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = min(KC, k - p0);
    const dst = base + ((<usize>p0 * <usize>np * <usize>NR + <usize>(j0 / NR) * <usize>kc * <usize>NR) << 2);
    packB(src, n, k, (flags & TRANS_B) != 0, p0, kc, j0, j1, dst);
  }
}

/**
 * C = op(A)·op(B) (+ C) for `batch` items. A chunk covers batchPerChunk items × rowsPerChunk
 * rows × colsPerChunk columns (a multiple of 8). With LOCAL_B each chunk packs its own B block
 * in its thread's scratch; otherwise B was packed by matmul_pack_b at `bp`, `bpStride`
 * elements per item (0 when B is shared by all items).
 */
export function matmul_f32(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, flags: i32,
  strideA: i32, strideB: i32, strideC: i32, bp: usize, bpStride: i32,
  scratch: usize, scratchBytes: i32, batch: i32, batchPerChunk: i32, rowsPerChunk: i32, colsPerChunk: i32,
  chunk: i32, tid: i32,
): void {
  const rowChunks = (m + rowsPerChunk - 1) / rowsPerChunk;
  const colChunks = (n + colsPerChunk - 1) / colsPerChunk;
  const i0 = (chunk % rowChunks) * rowsPerChunk;
  const i1 = min(m, i0 + rowsPerChunk);
  const rest = chunk / rowChunks;
  const j0 = (rest % colChunks) * colsPerChunk;
  const j1 = min(n, j0 + colsPerChunk);
  const g0 = (rest / colChunks) * batchPerChunk;
  const g1 = min(batch, g0 + batchPerChunk);
  const transA = (flags & TRANS_A) != 0;
  const transB = (flags & TRANS_B) != 0;
  const localB = (flags & LOCAL_B) != 0;
  const tmp = scratch + <usize>tid * <usize>scratchBytes;
  const packedA = tmp + TILE_BYTES;
  const packedB = packedA + (<usize>((MC + MR) * KC) << 2);
  const np = (n + NR - 1) / NR;
  const ldc = <usize>n << 2;
  for (let g = g0; g < g1; g++) {
    const ag = a + ((<usize>g * <usize>strideA) << 2);
    const bg = b + ((<usize>g * <usize>strideB) << 2);
    const cg = c + ((<usize>g * <usize>strideC) << 2);
    const bpg = bp + ((<usize>g * <usize>bpStride) << 2);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      const add = p0 > 0 || (flags & ACCUMULATE) != 0;
      let panels: usize;
      if (localB) {
        packB(bg, n, k, transB, p0, kc, j0, j1, packedB);
        panels = packedB;
      } else {
        panels = bpg + ((<usize>p0 * <usize>np * <usize>NR + <usize>(j0 / NR) * <usize>kc * <usize>NR) << 2);
      }
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(ag, m, k, transA, ic, mc, p0, kc, packedA);
        blockProduct(packedA, panels, kc, mc, j1 - j0, cg + ((<usize>ic * <usize>n + <usize>j0) << 2), ldc, add, tmp);
      }
    }
  }
}

/** C block (mc × nc) = or += packed A block (mc × kc) times packed B panels (kc × nc). */
function blockProduct(packedA: usize, panels: usize, kc: i32, mc: i32, nc: i32, c: usize, ldc: usize, add: bool, tmp: usize): void {
  const panelBytes = <usize>kc * <usize>NR << 2;
  const stripBytes = <usize>kc * <usize>MR << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const bpj = panels + <usize>(jr / NR) * panelBytes;
    let ap = packedA;
    let cp = c + (<usize>jr << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      const rows = min(MR, mc - ir);
      if (MR == 6) kernel6x8(ap, bpj, kc, cp, ldc, rows, cols, add, tmp);
      else kernel5x8(ap, bpj, kc, cp, ldc, rows, cols, add, tmp);
      ap += stripBytes;
      cp += ldc * <usize>MR;
    }
  }
}
