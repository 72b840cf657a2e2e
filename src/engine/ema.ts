/** The exponential moving average used for JEPA's target embedding. */
import { assertSameShape } from "./ops/common.js";
import type { Tensor } from "./tensor.js";

/** target ← momentum · target + (1 − momentum) · online, in place. */
export function emaUpdate(target: Tensor, online: Tensor, momentum: number): void {
  assertSameShape("emaUpdate", target, online);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`emaUpdate: momentum must be in [0, 1], got ${momentum}`);
  target.engine.runElementwise("ema_update", [target.ptr, online.ptr, momentum], target.size);
}
