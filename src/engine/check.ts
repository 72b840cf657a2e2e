/** Guards of a training step: losses and gradients must stay finite. */
import type { Engine } from "./engine.js";
import { assertFinite, NonFiniteError } from "./optim.js";
import type { Tensor } from "./tensor.js";

/**
 * Throws NonFiniteError naming the step and the first offending tensor when the loss or
 * any parameter gradient holds NaN or Infinity, so training stops before the update.
 */
export function checkStepFinite(engine: Engine, step: number, loss: number, params: readonly Tensor[]): void {
  if (!Number.isFinite(loss)) throw new NonFiniteError(`loss is ${loss} at step ${step}`);
  assertFinite(engine, params.map((p) => ({ name: `gradient of ${p.name}`, ptr: p.grad!.ptr, size: p.size })), `step ${step}`);
}
