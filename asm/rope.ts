// Rotary position embedding (rotate-half convention) over (B, T, H, dh) activations.
//
// Element (b, t, h, i) is at (b*T + t)*stride + h*dh + i. Position p = pos0 + t; for
// i < dh/2 the pair (x[i], x[i + dh/2]) is rotated by theta = p * base^(-2i/dh), the angle
// computed in f64 and cos/sin rounded to f32, so every element is computed the same way
// whatever the chunking. A chunk covers positions [chunk*posPerChunk, (chunk+1)*posPerChunk)
// for every batch row and head, so cos/sin are computed once per (position, i).

@inline function invFreq(base: f64, i: i32, dh: i32): f64 {
  return Math.pow(base, (-2.0 * <f64>i) / <f64>dh);
}

/**
 * Rotates (or, with transpose, accumulates the transposed rotation of) positions
 * [t0, t1) of src into dst.
 */
@inline function ropeRange(
  src: usize, dst: usize, B: i32, T: i32, H: i32, dh: i32, stride: i32,
  pos0: i32, base: f64, t0: i32, t1: i32, transpose: bool,
): void {
  const half = dh >> 1;
  const halfBytes = <usize>half << 2;
  const rowBytes = <usize>stride << 2;
  const batchBytes = <usize>T * rowBytes;
  const headBytes = <usize>dh << 2;
  for (let t = t0; t < t1; t++) {
    const pos = <f64>(pos0 + t);
    const tOff = <usize>t * rowBytes;
    let i = 0;
    if ((half & 3) == 0) {
      for (; i < half; i += 4) {
        const a0 = pos * invFreq(base, i, dh);
        const a1 = pos * invFreq(base, i + 1, dh);
        const a2 = pos * invFreq(base, i + 2, dh);
        const a3 = pos * invFreq(base, i + 3, dh);
        const cv = f32x4(<f32>Math.cos(a0), <f32>Math.cos(a1), <f32>Math.cos(a2), <f32>Math.cos(a3));
        const sv = f32x4(<f32>Math.sin(a0), <f32>Math.sin(a1), <f32>Math.sin(a2), <f32>Math.sin(a3));
        const io = <usize>i << 2;
        for (let b = 0; b < B; b++) {
          const rowOff = <usize>b * batchBytes + tOff + io;
          for (let h = 0; h < H; h++) {
            const o = rowOff + <usize>h * headBytes;
            const x1 = v128.load(src + o);
            const x2 = v128.load(src + o + halfBytes);
            if (transpose) {
              // dx1 += c*dy1 + s*dy2; dx2 += c*dy2 - s*dy1
              const y1 = f32x4.add(f32x4.mul(x1, cv), f32x4.mul(x2, sv));
              const y2 = f32x4.sub(f32x4.mul(x2, cv), f32x4.mul(x1, sv));
              v128.store(dst + o, f32x4.add(v128.load(dst + o), y1));
              v128.store(dst + o + halfBytes, f32x4.add(v128.load(dst + o + halfBytes), y2));
            } else {
              const y1 = f32x4.sub(f32x4.mul(x1, cv), f32x4.mul(x2, sv));
              const y2 = f32x4.add(f32x4.mul(x1, sv), f32x4.mul(x2, cv));
              v128.store(dst + o, y1);
              v128.store(dst + o + halfBytes, y2);
            }
          }
        }
      }
    } else {
      for (; i < half; i++) {
        const a = pos * invFreq(base, i, dh);
        const c = <f32>Math.cos(a);
        const s = <f32>Math.sin(a);
        const io = <usize>i << 2;
        for (let b = 0; b < B; b++) {
          const rowOff = <usize>b * batchBytes + tOff + io;
          for (let h = 0; h < H; h++) {
            const o = rowOff + <usize>h * headBytes;
            const x1 = load<f32>(src + o);
            const x2 = load<f32>(src + o + halfBytes);
            if (transpose) {
              store<f32>(dst + o, load<f32>(dst + o) + (x1 * c + x2 * s));
              store<f32>(dst + o + halfBytes, load<f32>(dst + o + halfBytes) + (x2 * c - x1 * s));
            } else {
              store<f32>(dst + o, x1 * c - x2 * s);
              store<f32>(dst + o + halfBytes, x1 * s + x2 * c);
            }
          }
        }
      }
    }
  }
}

/**
 * out = rope(x) for positions [chunk*posPerChunk, ...) of every batch row and head; x and out
 * share `stride` (elements between tokens). Works in place (out == x).
 */
export function rope_forward(
  x: usize, out: usize, B: i32, T: i32, H: i32, dh: i32, stride: i32,
  pos0: i32, base: f64, posPerChunk: i32, chunk: i32, tid: i32,
): void {
  const t0 = chunk * posPerChunk;
  const t1 = min(T, t0 + posPerChunk);
  ropeRange(x, out, B, T, H, dh, stride, pos0, base, t0, t1, false);
}

/**
 * dx += rope^T(dy) (rotation by -theta), accumulating; same arguments as rope_forward.
 * dx must not alias dy.
 */
export function rope_backward(
  dy: usize, dx: usize, B: i32, T: i32, H: i32, dh: i32, stride: i32,
  pos0: i32, base: f64, posPerChunk: i32, chunk: i32, tid: i32,
): void {
  const t0 = chunk * posPerChunk;
  const t1 = min(T, t0 + posPerChunk);
  ropeRange(dy, dx, B, T, H, dh, stride, pos0, base, t0, t1, true);
}
