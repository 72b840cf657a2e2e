/** The error measure of every comparison against a reference tensor in the tests. */
import assert from "node:assert/strict";

/** Largest |a − b| over the largest |b| (at least 1e-3, so tiny tensors use absolute error). */
export function relMaxError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let err = 0, scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}
