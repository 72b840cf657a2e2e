/** Normalisations over the last dimension: RMSNorm, parameter-free per-head norm, L2. */
import type { Tensor } from "../tensor.js";
import { assertDtype, output } from "./common.js";

/** Default epsilon of RMSNorm and QK-Norm. */
export const NORM_EPS = 1e-5;
/** Smallest norm L2 normalisation divides by. */
export const L2_EPS = 1e-12;

/** x / sqrt(mean(x²) + eps) · gain over the last dimension; gain null means no gain. */
export function rmsNorm(x: Tensor, gain: Tensor | null, eps = NORM_EPS): Tensor {
  assertDtype("rmsNorm", x, "f32");
  const n = x.lastDim;
  if (gain && (gain.rank !== 1 || gain.size !== n)) throw new Error(`rmsNorm: gain ${gain.describe()} does not match ${x.describe()}`);
  const e = x.engine;
  const rows = x.size / n;
  const y = output(e, x.shape, [x, gain]);
  const rstd = e.empty([rows]);
  e.runRows("rms_forward", [x.ptr, gain?.ptr ?? 0, y.ptr, rstd.ptr, rows, n, eps], rows, n * 4);
  e.record([x, gain], () => {
    const dy = e.gradOf(y).ptr;
    if (x.requiresGrad) {
      const g = e.gradFor(x);
      e.runRows("rms_backward", [x.ptr, gain?.ptr ?? 0, rstd.ptr, dy, g.ptr, rows, n, g.acc], rows, n * 4);
    }
    if (gain?.requiresGrad) {
      const per = 32;
      e.pool.run("rms_gain_grad", [x.ptr, rstd.ptr, dy, e.gradZeroed(gain), rows, n, per], Math.ceil(n / per));
    }
  });
  return y;
}

/** QK-Norm: RMS normalisation of each head's slice of the last dimension, without parameters. */
export function headNorm(x: Tensor, heads: number, eps = NORM_EPS): Tensor {
  const width = x.lastDim;
  if (!Number.isInteger(heads) || heads <= 0 || width % heads !== 0) {
    throw new Error(`headNorm: ${heads} heads do not divide width ${width} of ${x.describe()}`);
  }
  return rmsNorm(x.reshape([x.size / (width / heads), width / heads]), null, eps).reshape(x.shape);
}

/** x / ‖x‖₂ over the last dimension: every row onto the unit sphere. */
export function l2Normalize(x: Tensor, eps = L2_EPS): Tensor {
  assertDtype("l2Normalize", x, "f32");
  const n = x.lastDim;
  const e = x.engine;
  const rows = x.size / n;
  const y = output(e, x.shape, [x]);
  const norm = e.empty([rows]);
  e.runRows("l2_forward", [x.ptr, y.ptr, norm.ptr, rows, n, eps], rows, n * 4);
  e.record([x], () => {
    const g = e.gradFor(x);
    e.runRows("l2_backward", [y.ptr, norm.ptr, e.gradOf(y).ptr, g.ptr, rows, n, g.acc], rows, n * 4);
  });
  return y;
}
