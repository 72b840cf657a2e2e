// Elementwise kernels over f32 arrays. Chunk c covers elements [c*per, min(n, (c+1)*per)).
import { hsum, tanh4 } from "./math";

// @ts-ignore: decorator
@inline function chunkStart(chunk: i32, per: i32): i32 {
  return chunk * per;
}

// @ts-ignore: decorator
@inline function chunkEnd(n: i32, chunk: i32, per: i32): i32 {
  return min(n, chunk * per + per);
}

/** dst[i] = value */
export function fill_f32(dst: usize, value: f32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  const v = f32x4.splat(value);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < end; i++) store<f32>(dst + (<usize>i << 2), value);
}

/** out[i] = a[i] + b[i] */
export function add_f32(a: usize, b: usize, out: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** y[i] += alpha * x[i] */
export function axpy_f32(x: usize, y: usize, alpha: f32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  const va = f32x4.splat(alpha);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** out[i] = a[i] * b[i] */
export function mul_f32(a: usize, b: usize, out: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** acc[i] += a[i] * b[i] (the backward of an elementwise product) */
export function muladd_f32(a: usize, b: usize, acc: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(v128.load(a + o), v128.load(b + o))));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out[i] = s * x[i] */
export function scale_f32(x: usize, s: f32, out: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  const vs = f32x4.splat(s);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(vs, v128.load(x + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, s * load<f32>(x + o));
  }
}

const GELU_C: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_A: f32 = 0.044715;

/** out = gelu(x), tanh approximation: 0.5 x (1 + tanh(c (x + a x^3))) */
export function gelu_forward(x: usize, out: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  const c = f32x4.splat(GELU_C), a = f32x4.splat(GELU_A), half = f32x4.splat(0.5), one = f32x4.splat(1.0);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const u = f32x4.mul(c, f32x4.add(v, f32x4.mul(a, f32x4.mul(v, f32x4.mul(v, v)))));
    v128.store(out + o, f32x4.mul(f32x4.mul(half, v), f32x4.add(one, tanh4(u))));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    const u = GELU_C * (v + GELU_A * v * v * v);
    const t = f32x4.extract_lane(tanh4(f32x4.splat(u)), 0);
    store<f32>(out + o, 0.5 * v * (1.0 + t));
  }
}

/** dx (+)= dy * gelu'(x) */
export function gelu_backward(x: usize, dy: usize, dx: usize, acc: i32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let i = chunkStart(chunk, per);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const g = geluGrad4(v128.load(x + o));
    const d = f32x4.mul(g, v128.load(dy + o));
    v128.store(dx + o, acc ? f32x4.add(v128.load(dx + o), d) : d);
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const d = f32x4.extract_lane(geluGrad4(f32x4.splat(load<f32>(x + o))), 0) * load<f32>(dy + o);
    store<f32>(dx + o, acc ? load<f32>(dx + o) + d : d);
  }
}

// @ts-ignore: decorator
@inline function geluGrad4(v: v128): v128 {
  const c = f32x4.splat(GELU_C), a = f32x4.splat(GELU_A), half = f32x4.splat(0.5), one = f32x4.splat(1.0);
  const v2 = f32x4.mul(v, v);
  const t = tanh4(f32x4.mul(c, f32x4.add(v, f32x4.mul(a, f32x4.mul(v, v2)))));
  const du = f32x4.mul(c, f32x4.add(one, f32x4.mul(f32x4.splat(3.0 * GELU_A), v2)));
  const sech2 = f32x4.sub(one, f32x4.mul(t, t));
  return f32x4.add(f32x4.mul(half, f32x4.add(one, t)), f32x4.mul(f32x4.mul(half, v), f32x4.mul(sech2, du)));
}

/** partial[chunk] = sum of x[i]^2 over the chunk (f64 result, summed in a fixed order). */
export function sumsq_partial(x: usize, partial: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let i = chunkStart(chunk, per);
  let total: f64 = 0;
  while (i < end) {
    // Sum blocks of 1024 in f32 lanes, then carry in f64 so long arrays keep their precision.
    const blockEnd = min(end, i + 1024);
    let s = f32x4.splat(0);
    for (; i + 4 <= blockEnd; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      s = f32x4.add(s, f32x4.mul(v, v));
    }
    let tail: f32 = 0;
    for (; i < blockEnd; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      tail += v * v;
    }
    total += <f64>hsum(s) + <f64>tail;
  }
  store<f64>(partial + (<usize>chunk << 3), total);
}

/** Whether any element is NaN or infinite: flags[chunk] = 1 if so, else 0. */
export function nonfinite_partial(x: usize, flags: usize, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = chunkEnd(n, chunk, per);
  let bad: i32 = 0;
  for (let i = chunkStart(chunk, per); i < end; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) bad = 1; // NaN - NaN and inf - inf are NaN
  }
  store<i32>(flags + (<usize>chunk << 2), bad);
}

/**
 * Copies (or adds) a 3-level strided block: for block b < nBlocks and row r < rows,
 * dst[b*dBS + r*dRS + j] (+)= src[b*sBS + r*sRS + j] for j < cols. Chunks cover `per` of
 * the nBlocks*rows rows. Used for concatenation, slicing and column splits.
 */
export function copy_rows(
  src: usize, dst: usize, nBlocks: i32, rows: i32, cols: i32,
  sBS: i32, sRS: i32, dBS: i32, dRS: i32, acc: i32, per: i32, chunk: i32, tid: i32,
): void {
  const total = nBlocks * rows;
  const end = min(total, chunk * per + per);
  for (let k = chunk * per; k < end; k++) {
    const b = k / rows, r = k % rows;
    const s = src + (<usize>(b * sBS + r * sRS) << 2);
    const d = dst + (<usize>(b * dBS + r * dRS) << 2);
    let j = 0;
    if (acc) {
      for (; j + 4 <= cols; j += 4) {
        const o = <usize>j << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
      }
      for (; j < cols; j++) store<f32>(d + (<usize>j << 2), load<f32>(d + (<usize>j << 2)) + load<f32>(s + (<usize>j << 2)));
    } else {
      for (; j + 4 <= cols; j += 4) v128.store(d + (<usize>j << 2), v128.load(s + (<usize>j << 2)));
      for (; j < cols; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
    }
  }
}

/** out[r, j] = x[r, j] + v[j] over rows*n; chunks cover `per` rows. */
export function add_rowvec(x: usize, v: usize, out: usize, rows: i32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const base = <usize>(r * n) << 2;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + base + o, f32x4.add(v128.load(x + base + o), v128.load(v + o)));
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      store<f32>(out + base + o, load<f32>(x + base + o) + load<f32>(v + o));
    }
  }
}

/** dst[j] += sum over r of x[r, j]; chunks cover `per` columns (a multiple of 4). */
export function col_sum(x: usize, dst: usize, rows: i32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const j0 = chunk * per;
  const j1 = min(n, j0 + per);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    let s = f32x4.splat(0);
    for (let r = 0; r < rows; r++) s = f32x4.add(s, v128.load(x + (<usize>(r * n + j) << 2)));
    const o = dst + (<usize>j << 2);
    v128.store(o, f32x4.add(v128.load(o), s));
  }
  for (; j < j1; j++) {
    let s: f32 = 0;
    for (let r = 0; r < rows; r++) s += load<f32>(x + (<usize>(r * n + j) << 2));
    store<f32>(dst + (<usize>j << 2), load<f32>(dst + (<usize>j << 2)) + s);
  }
}
