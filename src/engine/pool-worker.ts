/** The loop a pool worker runs: wait for a job, run the chunks it can claim, report them. */
import { instantiateKernels } from "./kernels.js";
import {
  controlViews, DONE, GEN, PARK, READY, runClaimedChunks, SHUTDOWN, SPIN_LIMIT, type WorkerInit,
} from "./pool-protocol.js";

/** Serves jobs until the pool shuts down; environment-specific entry files call this. */
export function serveJobs(init: WorkerInit): void {
  const exports = instantiateKernels(init.module, init.memory);
  const kernels = Object.values(exports).filter((v) => typeof v === "function") as Array<(...a: number[]) => unknown>;
  const views = controlViews(init.memory, init.controlPtr);
  const { ints } = views;
  // Read the generation before announcing readiness, or a job posted in between is missed.
  let seen = Atomics.load(ints, GEN);
  Atomics.add(ints, READY, 1);
  Atomics.notify(ints, READY);
  const callArgs: number[] = [];
  for (;;) {
    let gen = Atomics.load(ints, GEN);
    for (let spins = 0; gen === seen; spins++) {
      // Spinning would take a core from native code (OpenBLAS's threads) running meanwhile.
      if (spins > SPIN_LIMIT || Atomics.load(ints, PARK) === 1) Atomics.wait(ints, GEN, seen);
      gen = Atomics.load(ints, GEN);
    }
    seen = gen;
    if (Atomics.load(ints, SHUTDOWN)) return;
    const ran = runClaimedChunks(views, kernels, gen, init.tid, callArgs);
    if (ran > 0) Atomics.add(ints, DONE, ran);
  }
}
