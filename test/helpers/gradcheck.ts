/**
 * Checks an op against a float64 reference: the engine's forward against the reference's,
 * and the engine's backward against central finite differences of the reference.
 */
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/rng.js";
import type { Engine } from "../../src/engine/engine.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { mul, sum } from "../../src/engine/ops/basic.js";

/** One input of a checked op. */
export interface InputSpec {
  shape: number[];
  /** Whether to check its gradient (default true). */
  grad?: boolean;
  /** Fixed values; otherwise standard normal. */
  values?: Float64Array | number[];
}

/** A gradient check case. */
export interface GradCase {
  inputs: InputSpec[];
  /** The op on engine tensors. */
  run: (xs: Tensor[]) => Tensor;
  /** The same op in float64 on plain arrays. */
  reference: (xs: Float64Array[]) => Float64Array;
  /** Tolerance of the forward comparison (absolute, scaled by max(1, |ref|)). */
  forwardTol?: number;
  /** Tolerance of the gradient comparison (absolute, scaled by max(1, max |grad|)). */
  gradTol?: number;
  /** Finite-difference step. */
  h?: number;
  seed?: number;
}

/** Runs the check; throws an assertion error with the worst mismatch. */
export function gradCheck(engine: Engine, c: GradCase): void {
  const rng = new Rng(c.seed ?? 1);
  const values = c.inputs.map((spec) => Float64Array.from(spec.values ?? Array.from({ length: size(spec.shape) }, () => rng.normal())));
  const xs = c.inputs.map((spec, i) =>
    engine.fromArray(Float32Array.from(values[i]), spec.shape, { requiresGrad: spec.grad !== false, name: `x${i}` }),
  );
  const y = c.run(xs);
  const weights = Float64Array.from({ length: y.size }, () => rng.normal());
  const loss = sum(mul(y, engine.fromArray(Float32Array.from(weights), y.shape)));
  engine.backward(loss);

  // Forward values use the f32-rounded inputs, exactly what the engine saw.
  const rounded = values.map((v) => Float64Array.from(Float32Array.from(v)));
  const ref = c.reference(rounded);
  assert.equal(ref.length, y.size, "reference output size");
  const got = y.toArray();
  const ftol = c.forwardTol ?? 1e-5;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    assert.ok(err <= ftol * Math.max(1, Math.abs(ref[i])), `forward[${i}]: engine ${got[i]} vs reference ${ref[i]}`);
  }

  const objective = (xs64: Float64Array[]) => dot(c.reference(xs64), weights);
  const h = c.h ?? 1e-5;
  const gtol = c.gradTol ?? 2e-3;
  c.inputs.forEach((spec, i) => {
    if (spec.grad === false) return;
    const analytic = engine.gradOf(xs[i]).toArray();
    const scale = Math.max(1, ...Array.from(analytic, Math.abs));
    const indices = sampleIndices(rounded[i].length, 40, rng);
    for (const j of indices) {
      const saved = rounded[i][j];
      rounded[i][j] = saved + h;
      const up = objective(rounded);
      rounded[i][j] = saved - h;
      const down = objective(rounded);
      rounded[i][j] = saved;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(analytic[j] - numeric);
      assert.ok(err <= gtol * scale, `grad of input ${i} at ${j}: engine ${analytic[j]} vs finite difference ${numeric}`);
    }
  });
  engine.endStep();
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function sampleIndices(n: number, count: number, rng: Rng): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, () => rng.int(n));
}
