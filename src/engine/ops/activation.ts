/** Activations. */
import type { Tensor } from "../tensor.js";
import { assertDtype, output } from "./common.js";

/** GELU, tanh approximation (PyTorch's gelu(approximate="tanh")). */
export function gelu(x: Tensor): Tensor {
  assertDtype("gelu", x, "f32");
  const e = x.engine;
  const y = output(e, x.shape, [x]);
  e.runElementwise("gelu_forward", [x.ptr, y.ptr], x.size);
  e.record([x], () => {
    const g = e.gradFor(x);
    e.runElementwise("gelu_backward", [x.ptr, e.gradOf(y).ptr, g.ptr, g.acc], x.size);
  });
  return y;
}
