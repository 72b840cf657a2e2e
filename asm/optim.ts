// Optimizer updates. Chunks cover `per` elements.

/**
 * One AdamW step in PyTorch's order: p *= 1 - lr*wd; m, v updated with g*gscale;
 * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). gscale applies gradient clipping.
 */
export function adamw_step(
  p: usize, g: usize, m: usize, v: usize, lr: f32, b1: f32, b2: f32, eps: f32, wd: f32,
  bc1: f32, bc2: f32, gscale: f32, n: i32, per: i32, chunk: i32, tid: i32,
): void {
  const end = min(n, chunk * per + per);
  const decay = f32(1) - lr * wd, step = lr / bc1, rbc2 = f32(1) / Mathf.sqrt(bc2);
  for (let i = chunk * per; i < end; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o) * gscale;
    const mi = b1 * load<f32>(m + o) + (f32(1) - b1) * gi;
    const vi = b2 * load<f32>(v + o) + (f32(1) - b2) * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const pi = load<f32>(p + o) * decay;
    store<f32>(p + o, pi - step * mi / (Mathf.sqrt(vi) * rbc2 + eps));
  }
}

/** target = momentum * target + (1 - momentum) * online (the EMA update). */
export function ema_update(target: usize, online: usize, momentum: f32, n: i32, per: i32, chunk: i32, tid: i32): void {
  const end = min(n, chunk * per + per);
  const vm = f32x4.splat(momentum), vo = f32x4.splat(f32(1) - momentum);
  let i = chunk * per;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(target + o, f32x4.add(f32x4.mul(vm, v128.load(target + o)), f32x4.mul(vo, v128.load(online + o))));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(target + o, momentum * load<f32>(target + o) + (f32(1) - momentum) * load<f32>(online + o));
  }
}
