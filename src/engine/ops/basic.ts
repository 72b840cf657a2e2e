/** Elementwise arithmetic and reductions: add, mul, scale, sum. */
import type { Tensor } from "../tensor.js";
import { accumulateGrad, assertDtype, assertSameShape, output } from "./common.js";

/** a + b (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  assertSameShape("add", a, b);
  const e = a.engine;
  const y = output(e, a.shape, [a, b]);
  e.runElementwise("add_f32", [a.ptr, b.ptr, y.ptr], y.size);
  e.record([a, b], () => {
    const dy = e.gradOf(y).ptr;
    accumulateGrad(a, dy);
    accumulateGrad(b, dy);
  });
  return y;
}

/** a * b elementwise (same shapes). */
export function mul(a: Tensor, b: Tensor): Tensor {
  assertSameShape("mul", a, b);
  const e = a.engine;
  const y = output(e, a.shape, [a, b]);
  e.runElementwise("mul_f32", [a.ptr, b.ptr, y.ptr], y.size);
  e.record([a, b], () => {
    const dy = e.gradOf(y).ptr;
    if (a.requiresGrad) e.runElementwise("muladd_f32", [dy, b.ptr, e.gradZeroed(a)], y.size);
    if (b.requiresGrad) e.runElementwise("muladd_f32", [dy, a.ptr, e.gradZeroed(b)], y.size);
  });
  return y;
}

/** s * x for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  assertDtype("scale", x, "f32");
  const e = x.engine;
  const y = output(e, x.shape, [x]);
  e.runElementwise("scale_f32", [x.ptr, s, y.ptr], y.size);
  e.record([x], () => {
    if (!x.requiresGrad) return;
    const g = e.gradFor(x);
    const dy = e.gradOf(y).ptr;
    if (g.acc) e.runElementwise("axpy_f32", [dy, g.ptr, s], y.size);
    else e.runElementwise("scale_f32", [dy, s, g.ptr], y.size);
  });
  return y;
}

/** Sum of all elements as a scalar, accumulated in float64 (meant for losses and tests). */
export function sum(x: Tensor): Tensor {
  assertDtype("sum", x, "f32");
  const e = x.engine;
  const y = output(e, [], [x]);
  let total = 0;
  const v = x.view();
  for (let i = 0; i < v.length; i++) total += v[i];
  y.view()[0] = total;
  e.record([x], () => {
    if (!x.requiresGrad) return;
    const g = e.gradOf(y).item();
    const ones = e.temp(x.shape, false);
    e.fill(ones.ptr, x.size, g);
    accumulateGrad(x, ones.ptr);
  });
  return y;
}
