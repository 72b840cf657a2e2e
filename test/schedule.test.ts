// Learning-rate schedules: one warmup-cosine cycle, and warm restarts (cycles back to back), as
// the training loop builds them from its settings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { warmupCosine, warmupCosineCycles } from "../src/engine/schedule.js";
import { scheduleOf, type TrainSettings } from "../src/train/loop.js";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test("a restart runs a second warmup and cosine from its own peak to its own floor", () => {
  const f = warmupCosineCycles([{ steps: 100, lr: 2e-3, warmup: 10, minLr: 2e-4 }, { steps: 60, lr: 1e-3, warmup: 5, minLr: 1e-4 }]);
  const first = warmupCosine(2e-3, 10, 100, 2e-4), second = warmupCosine(1e-3, 5, 60, 1e-4);
  for (const s of [0, 9, 10, 55, 99]) close(f(s), first(s));
  for (const s of [100, 104, 105, 130, 159]) close(f(s), second(s - 100));
  close(f(99), 2e-4 + 0.5 * 1.8e-3 * (1 + Math.cos(Math.PI * 89 / 90)));
  close(f(100), 1e-3 / 5);
  close(f(105), 1e-3);
  close(f(500), 1e-4);
});

test("the loop's schedule: steps count the restarts, and a restart longer than the run is refused", () => {
  const base: TrainSettings = {
    steps: 7000, batch: 1, seq: 1, lr: 2e-3, minLr: 2e-4, warmup: 50, weightDecay: 0, beta1: 0.9, beta2: 0.95, clip: 1,
    evalEvery: 1, checkpointEvery: 1, logEvery: 1, seed: 1, loss: "all",
  };
  const plain = scheduleOf(base);
  close(plain(3525), warmupCosine(2e-3, 50, 7000, 2e-4)(3525));
  const restarted = scheduleOf({ ...base, restarts: [{ steps: 3000, lr: 1e-3, warmup: 50, minLr: 1e-4 }] });
  close(restarted(3999), warmupCosine(2e-3, 50, 4000, 2e-4)(3999));
  close(restarted(4049), 1e-3);
  close(restarted(6999), warmupCosine(1e-3, 50, 3000, 1e-4)(2999));
  assert.throws(() => scheduleOf({ ...base, restarts: [{ steps: 7000, lr: 1e-3, warmup: 50, minLr: 1e-4 }] }), /leaving none for the first cycle/);
});
