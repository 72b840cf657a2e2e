/** Gaussian noise, for the latent-noise experiments. */
import type { Rng } from "../rng.js";
import type { Tensor } from "../tensor.js";
import { accumulateGrad, assertDtype, output } from "./common.js";

/**
 * x + std · N(0, 1), drawn from rng. `std` is one number, or one per row of the last
 * dimension (e.g. σ times each latent's largest element). The gradient passes unchanged.
 */
export function addGaussianNoise(x: Tensor, std: number | Float32Array, rng: Rng): Tensor {
  assertDtype("addGaussianNoise", x, "f32");
  const n = x.lastDim;
  const rows = x.size / n;
  if (typeof std !== "number" && std.length !== rows) throw new Error(`addGaussianNoise: ${std.length} deviations for ${rows} rows of ${x.describe()}`);
  const e = x.engine;
  const noise = e.empty(x.shape);
  const v = noise.view();
  for (let r = 0; r < rows; r++) {
    const s = typeof std === "number" ? std : std[r];
    if (!(s >= 0)) throw new Error(`addGaussianNoise: standard deviation must be >= 0, got ${s}`);
    for (let j = 0; j < n; j++) v[r * n + j] = s * rng.normal();
  }
  const y = output(e, x.shape, [x]);
  e.runElementwise("add_f32", [x.ptr, noise.ptr, y.ptr], x.size);
  e.record([x], () => accumulateGrad(x, e.gradOf(y).ptr));
  return y;
}
