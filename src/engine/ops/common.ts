/** Small helpers shared by the op files. */
import type { Engine } from "../engine.js";
import { Tensor } from "../tensor.js";

/** A new arena tensor for an op's output; it needs a gradient if any input does. */
export function output(engine: Engine, shape: readonly number[], inputs: ReadonlyArray<Tensor | null | undefined>, name = ""): Tensor {
  const requiresGrad = engine.recording && inputs.some((t) => t?.requiresGrad);
  return engine.empty(shape, { requiresGrad, name });
}

/** Throws unless the two shapes are equal. */
export function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes differ: ${a.describe()} and ${b.describe()}`);
  }
}

/** Throws unless t has the dtype. */
export function assertDtype(op: string, t: Tensor, dtype: "f32" | "i32"): void {
  if (t.dtype !== dtype) throw new Error(`${op}: ${t.describe()} must be ${dtype}, got ${t.dtype}`);
}

/** Throws unless t has the given rank. */
export function assertRank(op: string, t: Tensor, ranks: number[]): void {
  if (!ranks.includes(t.rank)) throw new Error(`${op}: ${t.describe()} must have rank ${ranks.join(" or ")}`);
}

/** Adds the n floats at src into t's gradient (copying them when it has none yet). */
export function accumulateGrad(t: Tensor, src: number): void {
  if (!t.requiresGrad) return;
  const e = t.engine;
  const g = e.gradFor(t);
  if (g.acc) e.runElementwise("axpy_f32", [src, g.ptr, 1], t.size);
  else e.runElementwise("scale_f32", [src, 1, g.ptr], t.size);
}
