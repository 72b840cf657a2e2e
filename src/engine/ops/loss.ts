/** Fused losses: softmax cross-entropy with ignored targets, and the scaled cosine loss. */
import type { Tensor } from "../tensor.js";
import { assertDtype, assertSameShape, output } from "./common.js";

/** Target id that contributes nothing to the cross-entropy. */
export const IGNORE_INDEX = -1;

/** Mean of -log softmax(logits)[target] over rows whose target is not IGNORE_INDEX. */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  assertDtype("crossEntropy", logits, "f32");
  assertDtype("crossEntropy", targets, "i32");
  const vocab = logits.lastDim;
  const rows = logits.size / vocab;
  if (targets.size !== rows) throw new Error(`crossEntropy: ${targets.describe()} does not match ${logits.describe()}`);
  const t = targets.ints();
  let count = 0;
  for (let i = 0; i < rows; i++) {
    if (t[i] === IGNORE_INDEX) continue;
    if (t[i] < 0 || t[i] >= vocab) throw new Error(`crossEntropy: target ${t[i]} at row ${i} is outside [0, ${vocab})`);
    count++;
  }
  const e = logits.engine;
  const rowLoss = e.empty([rows]);
  const lse = e.empty([rows]);
  e.runRows("ce_forward", [logits.ptr, targets.ptr, rowLoss.ptr, lse.ptr, rows, vocab], rows, vocab * 4);
  const y = output(e, [], [logits]);
  y.view()[0] = count > 0 ? sumInOrder(rowLoss.view()) / count : 0;
  e.record([logits], () => {
    const g = e.gradFor(logits);
    const scale = count > 0 ? e.gradOf(y).item() / count : 0;
    e.runRows("ce_backward", [logits.ptr, targets.ptr, lse.ptr, g.ptr, rows, vocab, scale, g.acc], rows, vocab * 4);
  });
  return y;
}

/**
 * k · (1 − cos(pred, target)) per row of the last dimension, averaged over the rows whose
 * mask is non-zero (mask null: all rows). Weighted by the mask's values.
 */
export function cosineLoss(pred: Tensor, target: Tensor, mask: Tensor | null, k = 4): Tensor {
  assertSameShape("cosineLoss", pred, target);
  const n = pred.lastDim;
  const rows = pred.size / n;
  if (mask && mask.size !== rows) throw new Error(`cosineLoss: mask ${mask.describe()} does not match ${pred.describe()}`);
  const weight = mask ? sumInOrder(mask.view()) : rows;
  const e = pred.engine;
  const rowLoss = e.empty([rows]);
  const stats = e.empty([rows, 3]);
  e.runRows("cos_forward", [pred.ptr, target.ptr, mask?.ptr ?? 0, rowLoss.ptr, stats.ptr, rows, n, k, 1e-8], rows, n * 8);
  const y = output(e, [], [pred, target]);
  y.view()[0] = weight > 0 ? sumInOrder(rowLoss.view()) / weight : 0;
  e.record([pred, target], () => {
    const scale = weight > 0 ? (e.gradOf(y).item() * k) / weight : 0;
    const args = [pred.ptr, target.ptr, mask?.ptr ?? 0, stats.ptr];
    if (!target.requiresGrad) {
      const g = e.gradFor(pred);
      e.runRows("cos_backward", [...args, g.ptr, 0, rows, n, scale, g.acc], rows, n * 8);
      return;
    }
    // Both gradients share the kernel's accumulate flag, so both buffers start zeroed.
    const dp = pred.requiresGrad ? e.gradZeroed(pred) : e.temp(pred.shape).ptr;
    e.runRows("cos_backward", [...args, dp, e.gradZeroed(target), rows, n, scale, 1], rows, n * 8);
  });
  return y;
}

/** Sum in float64, in index order, so the result does not depend on threads. */
function sumInOrder(values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}
