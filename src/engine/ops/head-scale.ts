/** A learnable temperature per attention head: each head's slice scaled by base·exp(s_h). */
import type { Tensor } from "../tensor.js";
import { assertDtype, output } from "./common.js";

/**
 * y[..., h, :] = x[..., h, :] · base · exp(logScale[h]) over `heads` equal slices of the last
 * dimension. The scale is stored as a log so Adam moves it by a factor per step, not by a
 * fixed amount, and it stays positive. Used on QK-normed queries: logits = g_h · cos(q, k).
 */
export function headScale(x: Tensor, logScale: Tensor, heads: number, base: number): Tensor {
  assertDtype("headScale", x, "f32");
  const width = x.lastDim;
  if (logScale.rank !== 1 || logScale.size !== heads || width % heads !== 0) {
    throw new Error(`headScale: ${logScale.describe()} does not give one scale to each of ${heads} heads of ${x.describe()}`);
  }
  const e = x.engine;
  const dh = width / heads, rows = x.size / width;
  const scales = Float32Array.from(logScale.view(), (s) => base * Math.exp(s));
  const y = output(e, x.shape, [x, logScale]);
  const xs = x.view(), ys = y.view();
  for (let r = 0; r < rows; r++) {
    for (let i = r * width, h = 0; h < heads; h++) for (let j = 0; j < dh; j++, i++) ys[i] = xs[i] * scales[h];
  }
  e.record([x, logScale], () => {
    const dy = e.gradOf(y).view();
    if (x.requiresGrad) scaleInto(e.gradFor(x), e.heap.f32, dy, scales, rows, heads, dh);
    if (logScale.requiresGrad) {
      // d loss / d s_h = Σ dy · y over head h (y already holds the factor exp(s_h)).
      const ds = new Float64Array(heads), yv = y.view();
      for (let i = 0; i < dy.length; i++) ds[Math.floor(i / dh) % heads] += dy[i] * yv[i];
      const g = e.gradFor(logScale), out = e.heap.f32;
      for (let h = 0; h < heads; h++) out[(g.ptr >>> 2) + h] = (g.acc ? out[(g.ptr >>> 2) + h] : 0) + ds[h];
    }
  });
  return y;
}

/** dx (= or +=) dy · scale of each element's head. */
function scaleInto(g: { ptr: number; acc: number }, f32: Float32Array, dy: Float32Array, scales: Float32Array, rows: number, heads: number, dh: number): void {
  const base = g.ptr >>> 2;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < dh; j++, i++) f32[base + i] = (g.acc ? f32[base + i] : 0) + dy[i] * scales[h];
    }
  }
}
