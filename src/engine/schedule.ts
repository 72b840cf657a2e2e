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

/** One warmup-then-cosine cycle of a schedule with warm restarts. */
export interface CosineCycle {
  steps: number;
  lr: number;
  warmup: number;
  minLr: number;
}

/**
 * Warm restarts: warmupCosine cycles run back to back, each from its own peak down to its own
 * floor (after the last cycle: the last floor). A restart lets a model that has settled, at a
 * low rate, into a partial solution move again (docs/tree-recipe.md, H13).
 */
export function warmupCosineCycles(cycles: readonly CosineCycle[]): (step: number) => number {
  if (cycles.length === 0) throw new Error("warmupCosineCycles: no cycles");
  const parts = cycles.map((c) => warmupCosine(c.lr, c.warmup, c.steps, c.minLr));
  const starts = cycles.map((_, i) => cycles.slice(0, i).reduce((sum, c) => sum + c.steps, 0));
  return (step: number) => {
    let i = cycles.length - 1;
    while (i > 0 && step < starts[i]) i--;
    return parts[i](step - starts[i]);
  };
}
