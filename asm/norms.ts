// Row normalisations: RMSNorm (with or without gain) and L2 onto the unit sphere.
// Chunks cover `per` rows of length n.
import { hsum } from "./math";

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) s = f32x4.add(s, f32x4.mul(v128.load(a + (<usize>j << 2)), v128.load(b + (<usize>j << 2))));
  let t = hsum(s);
  for (; j < n; j++) t += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return t;
}

/** out = x / sqrt(mean(x^2) + eps) * gain (gain = 0: none); rstd[r] keeps 1/sqrt(mean + eps). */
export function rms_forward(
  x: usize, gain: usize, out: usize, rstd: usize, rows: i32, n: i32, eps: f32, per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const xr = x + (<usize>(r * n) << 2), or = out + (<usize>(r * n) << 2);
    const s = f32(1.0) / Mathf.sqrt(dot(xr, xr, n) / f32(n) + eps);
    store<f32>(rstd + (<usize>r << 2), s);
    const vs = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let y = f32x4.mul(v128.load(xr + o), vs);
      if (gain) y = f32x4.mul(y, v128.load(gain + o));
      v128.store(or + o, y);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      let y = load<f32>(xr + o) * s;
      if (gain) y *= load<f32>(gain + o);
      store<f32>(or + o, y);
    }
  }
}

/** dx (+)= rstd * (g*dy - xhat * mean(g*dy * xhat)), xhat = x * rstd. */
export function rms_backward(
  x: usize, gain: usize, rstd: usize, dy: usize, dx: usize, rows: i32, n: i32, acc: i32, per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const off = <usize>(r * n) << 2;
    const xr = x + off, dyr = dy + off, dxr = dx + off;
    const s = load<f32>(rstd + (<usize>r << 2));
    // c = mean(g * dy * xhat) = s * mean(g * dy * x)
    let acc4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let g = v128.load(dyr + o);
      if (gain) g = f32x4.mul(g, v128.load(gain + o));
      acc4 = f32x4.add(acc4, f32x4.mul(g, v128.load(xr + o)));
    }
    let t = hsum(acc4);
    for (; j < n; j++) {
      const o = <usize>j << 2;
      t += load<f32>(dyr + o) * (gain ? load<f32>(gain + o) : f32(1)) * load<f32>(xr + o);
    }
    const c = t * s / f32(n);
    const vs = f32x4.splat(s), vcs = f32x4.splat(c * s);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let g = v128.load(dyr + o);
      if (gain) g = f32x4.mul(g, v128.load(gain + o));
      let d = f32x4.mul(vs, f32x4.sub(g, f32x4.mul(v128.load(xr + o), vcs)));
      if (acc) d = f32x4.add(d, v128.load(dxr + o));
      v128.store(dxr + o, d);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      const g = load<f32>(dyr + o) * (gain ? load<f32>(gain + o) : f32(1));
      let d = s * (g - load<f32>(xr + o) * c * s);
      if (acc) d += load<f32>(dxr + o);
      store<f32>(dxr + o, d);
    }
  }
}

/** dgain[j] += sum over rows of dy * x * rstd; chunks cover `per` columns. */
export function rms_gain_grad(
  x: usize, rstd: usize, dy: usize, dgain: usize, rows: i32, n: i32, per: i32, chunk: i32, tid: i32,
): void {
  const j0 = chunk * per, j1 = min(n, j0 + per);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    let s = f32x4.splat(0);
    for (let r = 0; r < rows; r++) {
      const o = <usize>(r * n + j) << 2;
      const xh = f32x4.mul(v128.load(x + o), f32x4.splat(load<f32>(rstd + (<usize>r << 2))));
      s = f32x4.add(s, f32x4.mul(v128.load(dy + o), xh));
    }
    const p = dgain + (<usize>j << 2);
    v128.store(p, f32x4.add(v128.load(p), s));
  }
  for (; j < j1; j++) {
    let s: f32 = 0;
    for (let r = 0; r < rows; r++) {
      const o = <usize>(r * n + j) << 2;
      s += load<f32>(dy + o) * load<f32>(x + o) * load<f32>(rstd + (<usize>r << 2));
    }
    store<f32>(dgain + (<usize>j << 2), load<f32>(dgain + (<usize>j << 2)) + s);
  }
}

/** out = x / max(||x||, eps); norm[r] keeps max(||x||, eps). */
export function l2_forward(x: usize, out: usize, norm: usize, rows: i32, n: i32, eps: f32, per: i32, chunk: i32, tid: i32): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const xr = x + (<usize>(r * n) << 2), or = out + (<usize>(r * n) << 2);
    const len = max(Mathf.sqrt(dot(xr, xr, n)), eps);
    store<f32>(norm + (<usize>r << 2), len);
    const inv = f32x4.splat(f32(1.0) / len);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(or + (<usize>j << 2), f32x4.mul(v128.load(xr + (<usize>j << 2)), inv));
    for (; j < n; j++) store<f32>(or + (<usize>j << 2), load<f32>(xr + (<usize>j << 2)) / len);
  }
}

/** dx (+)= (dy - y (y . dy)) / norm, with y the normalised output. */
export function l2_backward(y: usize, norm: usize, dy: usize, dx: usize, rows: i32, n: i32, acc: i32, per: i32, chunk: i32, tid: i32): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const off = <usize>(r * n) << 2;
    const yr = y + off, dyr = dy + off, dxr = dx + off;
    const inv = f32(1.0) / load<f32>(norm + (<usize>r << 2));
    const c = dot(yr, dyr, n);
    const vc = f32x4.splat(c), vinv = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let d = f32x4.mul(vinv, f32x4.sub(v128.load(dyr + o), f32x4.mul(v128.load(yr + o), vc)));
      if (acc) d = f32x4.add(d, v128.load(dxr + o));
      v128.store(dxr + o, d);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      let d = inv * (load<f32>(dyr + o) - load<f32>(yr + o) * c);
      if (acc) d += load<f32>(dxr + o);
      store<f32>(dxr + o, d);
    }
  }
}
