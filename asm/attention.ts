// Fused multi-head attention, forward and backward, one (batch, head) pair per chunk.
//
// Layouts (element offsets, f32): q(b, t, h, i) at (b*Tq + t)*qStride + h*dh + i; k, v likewise
// with Tk and their own strides; o and dO use oStride; dq/dk/dv share the strides of q/k/v;
// lse(b, h, t) at (b*H + h)*Tq + t. Scores s_tj = scale * q_t . k_j. Key j is visible to query t
// iff (causal == 0 || j <= t + Tk - Tq) && (mask == 0 || mask[b*Tk + j] != 0).
//
// Each chunk works in its own thread's scratch area (scratch + tid*scratchStride floats):
// K (and V in the backward) transposed to (dh, TkP) with TkP = Tk rounded up to 8, a per-key
// additive bias (0 or -inf), and rows of scores/probabilities. The products are 4x8 register
// tiles vectorised over keys (Q K^T, dO V^T) or over the head dimension (P V, dS K, P^T dO,
// dS^T Q). A chunk never depends on the thread that runs it, so results are bit-identical for
// any thread count. Requires dh % 4 == 0.

/** Query rows per block in the backward; attention-kernels.ts sizes scratch with the same value. */
const BWD_BLOCK: i32 = 64;

const NEG_INF: f32 = -Infinity;

@inline function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

/** a*b + c (fused where relaxed SIMD is available). */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * exp on four lanes, relative error about 1e-7 on [-87, 88]; inputs below -87 (including -inf)
 * give exactly 0. Range reduction x = n ln2 + r with |r| <= ln2/2 (ln2 split in two parts),
 * a degree-7 polynomial for e^r, and 2^n built in the exponent bits.
 */
@inline function exp4(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(-87.0));
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  // Adding 1.5 * 2^23 rounds to an integer, which then sits in the low mantissa bits.
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504089)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // (bits(t) + 127) << 23 == (n + 127) << 23: the magic constant's bits shift out.
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(y, pow2), under);
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Dot product of two dh-vectors (dh % 4 == 0). */
function dot(a: usize, b: usize, dh: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= dh; i += 8) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  if (i < dh) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
  }
  return hsum(f32x4.add(acc0, acc1));
}

/**
 * Transposes rows [0, n) of a strided (n, dh) matrix (rowBytes apart) into dst (dh, nP),
 * zero-filling columns [n, nP).
 */
function transposeInto(src: usize, rowBytes: usize, n: i32, nP: i32, dh: i32, dst: usize): void {
  const dRow = <usize>nP << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const s0 = src + <usize>j * rowBytes;
    const s1 = s0 + rowBytes;
    const s2 = s1 + rowBytes;
    const s3 = s2 + rowBytes;
    let d = dst + (<usize>j << 2);
    for (let i = 0; i < dh; i += 4) {
      const o = <usize>i << 2;
      const a = v128.load(s0 + o);
      const b = v128.load(s1 + o);
      const c = v128.load(s2 + o);
      const e = v128.load(s3 + o);
      const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(c, e, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
      v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(d + dRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(d + 2 * dRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(d + 3 * dRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      d += 4 * dRow;
    }
  }
  for (; j < n; j++) {
    const s = src + <usize>j * rowBytes;
    let d = dst + (<usize>j << 2);
    for (let i = 0; i < dh; i++) {
      store<f32>(d, load<f32>(s + (<usize>i << 2)));
      d += dRow;
    }
  }
  if (n < nP) {
    for (let i = 0; i < dh; i++) {
      const d = dst + <usize>i * dRow;
      for (let jj = n; jj < nP; jj++) store<f32>(d + (<usize>jj << 2), 0);
    }
  }
}

/** bias[j] = 0 for keys kept by the mask, -inf for padded keys and for j in [n, nP). */
function keyBias(mask: usize, n: i32, nP: i32, bias: usize): void {
  for (let j = 0; j < nP; j++) {
    let keep = j < n;
    if (keep && mask != 0) keep = load<f32>(mask + (<usize>j << 2)) != 0;
    store<f32>(bias + (<usize>j << 2), keep ? 0 : NEG_INF);
  }
}

/**
 * out[r][0..8) = a_r . kt[:, 0..8) for four rows a_r (dh floats each); kt is (dh, *) with
 * ktRow bytes per row, out has outRow bytes per row.
 */
function dots4x8(a0: usize, a1: usize, a2: usize, a3: usize, kt: usize, ktRow: usize, dh: i32, out: usize, outRow: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let p = kt;
  const end = <usize>dh << 2;
  for (let o: usize = 0; o < end; o += 4) {
    const k0 = v128.load(p);
    const k1 = v128.load(p, 16);
    p += ktRow;
    let x = v128.load32_splat(a0 + o);
    c00 = madd(x, k0, c00);
    c01 = madd(x, k1, c01);
    x = v128.load32_splat(a1 + o);
    c10 = madd(x, k0, c10);
    c11 = madd(x, k1, c11);
    x = v128.load32_splat(a2 + o);
    c20 = madd(x, k0, c20);
    c21 = madd(x, k1, c21);
    x = v128.load32_splat(a3 + o);
    c30 = madd(x, k0, c30);
    c31 = madd(x, k1, c31);
  }
  v128.store(out, c00);
  v128.store(out, c01, 16);
  out += outRow;
  v128.store(out, c10);
  v128.store(out, c11, 16);
  out += outRow;
  v128.store(out, c20);
  v128.store(out, c21, 16);
  out += outRow;
  v128.store(out, c30);
  v128.store(out, c31, 16);
}

/** out_r[0..8) (+)= m_r * sum_{j<n} p[r][j] * v_j[0..8) for rows r < nValid of a 4-row tile. */
function pv4x8(p: usize, pRow: usize, v: usize, vRow: usize, n: i32,
  out0: usize, out1: usize, out2: usize, out3: usize,
  m0: f32, m1: f32, m2: f32, m3: f32, nValid: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const p1 = p + pRow;
  const p2 = p1 + pRow;
  const p3 = p2 + pRow;
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 4) {
    const v0 = v128.load(v);
    const v1 = v128.load(v, 16);
    v += vRow;
    let x = v128.load32_splat(p + o);
    c00 = madd(x, v0, c00);
    c01 = madd(x, v1, c01);
    x = v128.load32_splat(p1 + o);
    c10 = madd(x, v0, c10);
    c11 = madd(x, v1, c11);
    x = v128.load32_splat(p2 + o);
    c20 = madd(x, v0, c20);
    c21 = madd(x, v1, c21);
    x = v128.load32_splat(p3 + o);
    c30 = madd(x, v0, c30);
    c31 = madd(x, v1, c31);
  }
  storeRow8(out0, c00, c01, m0, accumulate);
  if (nValid > 1) storeRow8(out1, c10, c11, m1, accumulate);
  if (nValid > 2) storeRow8(out2, c20, c21, m2, accumulate);
  if (nValid > 3) storeRow8(out3, c30, c31, m3, accumulate);
}

/** As pv4x8 for a 4-wide column tail. */
function pv4x4(p: usize, pRow: usize, v: usize, vRow: usize, n: i32,
  out0: usize, out1: usize, out2: usize, out3: usize,
  m0: f32, m1: f32, m2: f32, m3: f32, nValid: i32, accumulate: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const p1 = p + pRow;
  const p2 = p1 + pRow;
  const p3 = p2 + pRow;
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 4) {
    const v0 = v128.load(v);
    v += vRow;
    c0 = madd(v128.load32_splat(p + o), v0, c0);
    c1 = madd(v128.load32_splat(p1 + o), v0, c1);
    c2 = madd(v128.load32_splat(p2 + o), v0, c2);
    c3 = madd(v128.load32_splat(p3 + o), v0, c3);
  }
  storeRow4(out0, c0, m0, accumulate);
  if (nValid > 1) storeRow4(out1, c1, m1, accumulate);
  if (nValid > 2) storeRow4(out2, c2, m2, accumulate);
  if (nValid > 3) storeRow4(out3, c3, m3, accumulate);
}

@inline function storeRow8(out: usize, a: v128, b: v128, m: f32, accumulate: bool): void {
  const mv = f32x4.splat(m);
  if (accumulate) {
    v128.store(out, madd(a, mv, v128.load(out)));
    v128.store(out, madd(b, mv, v128.load(out, 16)), 16);
  } else {
    v128.store(out, f32x4.mul(a, mv));
    v128.store(out, f32x4.mul(b, mv), 16);
  }
}

@inline function storeRow4(out: usize, a: v128, m: f32, accumulate: bool): void {
  const mv = f32x4.splat(m);
  if (accumulate) {
    v128.store(out, madd(a, mv, v128.load(out)));
  } else {
    v128.store(out, f32x4.mul(a, mv));
  }
}

/**
 * For keys j0..j0+nk (nk <= 4) and 8 columns: dst_j[0..8) += m * sum_{r0<=r<r1} p[r][j] * src_r[0..8).
 * p points at column j0 of row 0 (pRow bytes per row); src at row 0 (srcRow bytes per row);
 * dst at key j0 (dstRow bytes per key).
 */
function ptd4x8(p: usize, pRow: usize, r0: i32, r1: i32, src: usize, srcRow: usize, dst: usize, dstRow: usize, nk: i32, m: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pp = p + <usize>r0 * pRow;
  let s = src + <usize>r0 * srcRow;
  for (let r = r0; r < r1; r++) {
    const s0 = v128.load(s);
    const s1 = v128.load(s, 16);
    s += srcRow;
    let x = v128.load32_splat(pp);
    c00 = madd(x, s0, c00);
    c01 = madd(x, s1, c01);
    x = v128.load32_splat(pp, 4);
    c10 = madd(x, s0, c10);
    c11 = madd(x, s1, c11);
    x = v128.load32_splat(pp, 8);
    c20 = madd(x, s0, c20);
    c21 = madd(x, s1, c21);
    x = v128.load32_splat(pp, 12);
    c30 = madd(x, s0, c30);
    c31 = madd(x, s1, c31);
    pp += pRow;
  }
  storeRow8(dst, c00, c01, m, true);
  if (nk > 1) storeRow8(dst + dstRow, c10, c11, m, true);
  if (nk > 2) storeRow8(dst + 2 * dstRow, c20, c21, m, true);
  if (nk > 3) storeRow8(dst + 3 * dstRow, c30, c31, m, true);
}

/** As ptd4x8 for a 4-wide column tail. */
function ptd4x4(p: usize, pRow: usize, r0: i32, r1: i32, src: usize, srcRow: usize, dst: usize, dstRow: usize, nk: i32, m: f32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let pp = p + <usize>r0 * pRow;
  let s = src + <usize>r0 * srcRow;
  for (let r = r0; r < r1; r++) {
    const s0 = v128.load(s);
    s += srcRow;
    c0 = madd(v128.load32_splat(pp), s0, c0);
    c1 = madd(v128.load32_splat(pp, 4), s0, c1);
    c2 = madd(v128.load32_splat(pp, 8), s0, c2);
    c3 = madd(v128.load32_splat(pp, 12), s0, c3);
    pp += pRow;
  }
  storeRow4(dst, c0, m, true);
  if (nk > 1) storeRow4(dst + dstRow, c1, m, true);
  if (nk > 2) storeRow4(dst + 2 * dstRow, c2, m, true);
  if (nk > 3) storeRow4(dst + 3 * dstRow, c3, m, true);
}

/**
 * Turns raw dot products row[0..n) into scores: s = raw*scale + bias[j], and -inf for j > lim.
 * Returns the row maximum.
 */
@inline function scoreRow(row: usize, bias: usize, n: i32, lim: i32, scale: f32): f32 {
  const sv = f32x4.splat(scale);
  const limv = i32x4.splat(lim);
  const ninf = f32x4.splat(NEG_INF);
  let jv = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  let mx = ninf;
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 16) {
    let s = madd(v128.load(row + o), sv, v128.load(bias + o));
    s = v128.bitselect(ninf, s, i32x4.gt_s(jv, limv));
    v128.store(row + o, s);
    mx = f32x4.pmax(mx, s);
    jv = i32x4.add(jv, four);
  }
  return hmax(mx);
}

/** Fills row[0..n) with exp(row - sub) and returns the sum. */
@inline function expRow(row: usize, n: i32, sub: f32): f32 {
  const subv = f32x4.splat(sub);
  let sum = f32x4.splat(0);
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 16) {
    const e = exp4(f32x4.sub(v128.load(row + o), subv));
    v128.store(row + o, e);
    sum = f32x4.add(sum, e);
  }
  return hsum(sum);
}

function zeroFloats(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/**
 * Attention forward for one (b, h) = (chunk / H, chunk % H): o_t = softmax(s_t) v over visible
 * keys, lse_t = log sum_j exp(s_tj); a query with no visible key gets o_t = 0, lse_t = +inf.
 * scratch + tid*scratchStride*4 must hold (dh + 5) * roundUp(Tk, 8) floats.
 */
export function attention_forward(
  q: usize, k: usize, v: usize, o: usize, lse: usize, mask: usize,
  B: i32, Tq: i32, Tk: i32, H: i32, dh: i32,
  qStride: i32, kStride: i32, vStride: i32, oStride: i32,
  causal: i32, scale: f32, scratch: usize, scratchStride: i32, chunk: i32, tid: i32,
): void {
  const b = chunk / H;
  const h = chunk - b * H;
  const TkP = roundUp(Tk, 8);
  const rowP = <usize>TkP << 2;
  const off = Tk - Tq;
  const kt = scratch + ((<usize>tid * <usize>scratchStride) << 2);
  const bias = kt + <usize>dh * rowP;
  const pbuf = bias + rowP;
  const qRow = <usize>qStride << 2;
  const kRow = <usize>kStride << 2;
  const vRow = <usize>vStride << 2;
  const oRow = <usize>oStride << 2;
  const headOff = <usize>(h * dh) << 2;
  const qb = q + <usize>(b * Tq) * qRow + headOff;
  const kb = k + <usize>(b * Tk) * kRow + headOff;
  const vb = v + <usize>(b * Tk) * vRow + headOff;
  const ob = o + <usize>(b * Tq) * oRow + headOff;
  const lseb = lse + (<usize>(chunk * Tq) << 2);

  transposeInto(kb, kRow, Tk, TkP, dh, kt);
  keyBias(mask != 0 ? mask + (<usize>(b * Tk) << 2) : 0, Tk, TkP, bias);

  for (let t0 = 0; t0 < Tq; t0 += 4) {
    const nValid = min(4, Tq - t0);
    const tLast = t0 + nValid - 1;
    const jEnd = causal != 0 ? min(Tk, tLast + off + 1) : Tk;
    if (jEnd <= 0) {
      for (let r = 0; r < nValid; r++) {
        zeroFloats(ob + <usize>(t0 + r) * oRow, dh);
        store<f32>(lseb + (<usize>(t0 + r) << 2), Infinity);
      }
      continue;
    }
    const n8 = roundUp(jEnd, 8);
    const a0 = qb + <usize>t0 * qRow;
    const a1 = qb + <usize>min(t0 + 1, tLast) * qRow;
    const a2 = qb + <usize>min(t0 + 2, tLast) * qRow;
    const a3 = qb + <usize>min(t0 + 3, tLast) * qRow;
    for (let j0 = 0; j0 < n8; j0 += 8) {
      dots4x8(a0, a1, a2, a3, kt + (<usize>j0 << 2), rowP, dh, pbuf + (<usize>j0 << 2), rowP);
    }
    let m0: f32 = 0, m1: f32 = 0, m2: f32 = 0, m3: f32 = 0;
    for (let r = 0; r < nValid; r++) {
      const t = t0 + r;
      const row = pbuf + <usize>r * rowP;
      const lim = causal != 0 ? t + off : Tk - 1;
      const mx = scoreRow(row, bias, n8, lim, scale);
      let inv: f32 = 0;
      if (mx == NEG_INF) {
        zeroFloats(row, n8);
        store<f32>(lseb + (<usize>t << 2), Infinity);
      } else {
        const sum = expRow(row, n8, mx);
        inv = 1 / sum;
        store<f32>(lseb + (<usize>t << 2), mx + <f32>Math.log(<f64>sum));
      }
      if (r == 0) m0 = inv;
      else if (r == 1) m1 = inv;
      else if (r == 2) m2 = inv;
      else m3 = inv;
    }
    const o0 = ob + <usize>t0 * oRow;
    const o1 = o0 + oRow;
    const o2 = o1 + oRow;
    const o3 = o2 + oRow;
    let c = 0;
    for (; c + 8 <= dh; c += 8) {
      const co = <usize>c << 2;
      pv4x8(pbuf, rowP, vb + co, vRow, jEnd, o0 + co, o1 + co, o2 + co, o3 + co, m0, m1, m2, m3, nValid, false);
    }
    if (c < dh) {
      const co = <usize>c << 2;
      pv4x4(pbuf, rowP, vb + co, vRow, jEnd, o0 + co, o1 + co, o2 + co, o3 + co, m0, m1, m2, m3, nValid, false);
    }
  }
}

/**
 * Attention backward for one (b, h) pair: recomputes p = exp(s - lse) and accumulates (+=)
 * dq, dk, dv. scratch + tid*scratchStride*4 must hold
 * (2*dh + 1 + 2*64) * roundUp(Tk, 8) + 64 floats.
 */
export function attention_backward(
  q: usize, k: usize, v: usize, o: usize, dO: usize, lse: usize,
  dq: usize, dk: usize, dv: usize, mask: usize,
  B: i32, Tq: i32, Tk: i32, H: i32, dh: i32,
  qStride: i32, kStride: i32, vStride: i32, oStride: i32,
  causal: i32, scale: f32, scratch: usize, scratchStride: i32, chunk: i32, tid: i32,
): void {
  const b = chunk / H;
  const h = chunk - b * H;
  const TkP = roundUp(Tk, 8);
  const rowP = <usize>TkP << 2;
  const off = Tk - Tq;
  const kt = scratch + ((<usize>tid * <usize>scratchStride) << 2);
  const vt = kt + <usize>dh * rowP;
  const bias = vt + <usize>dh * rowP;
  const pbuf = bias + rowP;
  const dsbuf = pbuf + <usize>BWD_BLOCK * rowP;
  const dbuf = dsbuf + <usize>BWD_BLOCK * rowP;
  const qRow = <usize>qStride << 2;
  const kRow = <usize>kStride << 2;
  const vRow = <usize>vStride << 2;
  const oRow = <usize>oStride << 2;
  const headOff = <usize>(h * dh) << 2;
  const qb = q + <usize>(b * Tq) * qRow + headOff;
  const kb = k + <usize>(b * Tk) * kRow + headOff;
  const vb = v + <usize>(b * Tk) * vRow + headOff;
  const ob = o + <usize>(b * Tq) * oRow + headOff;
  const dOb = dO + <usize>(b * Tq) * oRow + headOff;
  const dqb = dq + <usize>(b * Tq) * qRow + headOff;
  const dkb = dk + <usize>(b * Tk) * kRow + headOff;
  const dvb = dv + <usize>(b * Tk) * vRow + headOff;
  const lseb = lse + (<usize>(chunk * Tq) << 2);

  transposeInto(kb, kRow, Tk, TkP, dh, kt);
  transposeInto(vb, vRow, Tk, TkP, dh, vt);
  keyBias(mask != 0 ? mask + (<usize>(b * Tk) << 2) : 0, Tk, TkP, bias);

  for (let tb = 0; tb < Tq; tb += BWD_BLOCK) {
    const nb = min(BWD_BLOCK, Tq - tb);
    const blockEnd = causal != 0 ? min(Tk, tb + nb - 1 + off + 1) : Tk;
    if (blockEnd <= 0) continue;
    for (let r = 0; r < nb; r++) {
      const t = <usize>(tb + r);
      store<f32>(dbuf + (<usize>r << 2), dot(dOb + t * oRow, ob + t * oRow, dh));
    }
    // Per 4-row tile: P, dS = P * (dO V^T - D), and dq += scale * dS K.
    for (let r4 = 0; r4 < nb; r4 += 4) {
      const nValid = min(4, nb - r4);
      const t0 = tb + r4;
      const tLast = t0 + nValid - 1;
      const jEnd = causal != 0 ? min(Tk, tLast + off + 1) : Tk;
      if (jEnd <= 0) continue;
      const n8 = roundUp(jEnd, 8);
      const pt = pbuf + <usize>r4 * rowP;
      const dst = dsbuf + <usize>r4 * rowP;
      const a0 = qb + <usize>t0 * qRow;
      const a1 = qb + <usize>min(t0 + 1, tLast) * qRow;
      const a2 = qb + <usize>min(t0 + 2, tLast) * qRow;
      const a3 = qb + <usize>min(t0 + 3, tLast) * qRow;
      for (let j0 = 0; j0 < n8; j0 += 8) {
        dots4x8(a0, a1, a2, a3, kt + (<usize>j0 << 2), rowP, dh, pt + (<usize>j0 << 2), rowP);
      }
      const g0 = dOb + <usize>t0 * oRow;
      const g1 = dOb + <usize>min(t0 + 1, tLast) * oRow;
      const g2 = dOb + <usize>min(t0 + 2, tLast) * oRow;
      const g3 = dOb + <usize>min(t0 + 3, tLast) * oRow;
      for (let j0 = 0; j0 < n8; j0 += 8) {
        dots4x8(g0, g1, g2, g3, vt + (<usize>j0 << 2), rowP, dh, dst + (<usize>j0 << 2), rowP);
      }
      for (let r = 0; r < nValid; r++) {
        const t = t0 + r;
        const prow = pt + <usize>r * rowP;
        const drow = dst + <usize>r * rowP;
        const lim = causal != 0 ? t + off : Tk - 1;
        scoreRow(prow, bias, n8, lim, scale);
        const lv = f32x4.splat(load<f32>(lseb + (<usize>t << 2)));
        const dv4 = f32x4.splat(load<f32>(dbuf + (<usize>(r4 + r) << 2)));
        const end = <usize>n8 << 2;
        for (let jo: usize = 0; jo < end; jo += 16) {
          const p = exp4(f32x4.sub(v128.load(prow + jo), lv));
          v128.store(prow + jo, p);
          v128.store(drow + jo, f32x4.mul(p, f32x4.sub(v128.load(drow + jo), dv4)));
        }
      }
      const d0 = dqb + <usize>t0 * qRow;
      const d1 = d0 + qRow;
      const d2 = d1 + qRow;
      const d3 = d2 + qRow;
      let c = 0;
      for (; c + 8 <= dh; c += 8) {
        const co = <usize>c << 2;
        pv4x8(dst, rowP, kb + co, kRow, jEnd, d0 + co, d1 + co, d2 + co, d3 + co, scale, scale, scale, scale, nValid, true);
      }
      if (c < dh) {
        const co = <usize>c << 2;
        pv4x4(dst, rowP, kb + co, kRow, jEnd, d0 + co, d1 + co, d2 + co, d3 + co, scale, scale, scale, scale, nValid, true);
      }
    }
    // dv += P^T dO and dk += scale * dS^T Q over this block's rows, 4 keys at a time.
    const srcQ = qb + <usize>tb * qRow;
    const srcG = dOb + <usize>tb * oRow;
    for (let j4 = 0; j4 < blockEnd; j4 += 4) {
      const nk = min(4, Tk - j4);
      // Rows before the first query that sees key j4 hold no probability mass (causal).
      const rStart = causal != 0 ? max(0, j4 - off - tb) : 0;
      if (rStart >= nb) continue;
      const jo = <usize>j4 << 2;
      const dvj = dvb + <usize>j4 * vRow;
      const dkj = dkb + <usize>j4 * kRow;
      let c = 0;
      for (; c + 8 <= dh; c += 8) {
        const co = <usize>c << 2;
        ptd4x8(pbuf + jo, rowP, rStart, nb, srcG + co, oRow, dvj + co, vRow, nk, 1);
        ptd4x8(dsbuf + jo, rowP, rStart, nb, srcQ + co, qRow, dkj + co, kRow, nk, scale);
      }
      if (c < dh) {
        const co = <usize>c << 2;
        ptd4x4(pbuf + jo, rowP, rStart, nb, srcG + co, oRow, dvj + co, vRow, nk, 1);
        ptd4x4(dsbuf + jo, rowP, rStart, nb, srcQ + co, qRow, dkj + co, kRow, nk, scale);
      }
    }
  }
}
