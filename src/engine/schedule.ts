/** Learning-rate schedules as pure functions of the step. */

/** Linear warmup to `lr` over `warmup` steps, then cosine decay to `minLr` at `total` steps. */
export function warmupCosine(lr: number, warmup: number, total: number, minLr = 0): (step: number) => number {
  if (!(lr >= 0) || !(minLr >= 0) || !Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(total) || total < 1) {
    throw new Error(`warmupCosine: invalid schedule (lr ${lr}, warmup ${warmup}, total ${total}, minLr ${minLr})`);
  }
  return (step: number) => {
    if (step < warmup) return (lr * (step + 1)) / warmup;
    if (step >= total) return minLr;
    const progress = (step - warmup) / Math.max(1, total - warmup);
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
