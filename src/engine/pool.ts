/**
 * A pool of threads on the shared memory that runs kernels chunk by chunk. The main thread
 * takes chunks itself; chunks are claimed dynamically, so a slow vCPU simply takes fewer.
 * Every kernel writes each output from exactly one chunk, so results do not depend on which
 * thread ran what: the same inputs give bit-identical outputs for any thread count.
 */
import { instantiateKernels, type KernelExports } from "./kernels.js";
import type { Heap } from "./heap.js";
import {
  CONTROL_BYTES, controlViews, DONE, FN, GEN, MAX_ARGS, NARGS, NCHUNKS, PARK, READY, runClaimedChunks,
  SHUTDOWN, type ControlViews, type WorkerInit,
} from "./pool-protocol.js";

/** A started worker, whatever the environment (worker_threads or Web Worker). */
export interface WorkerHandle {
  terminate(): void | Promise<unknown>;
}

/** Starts one worker that calls serveJobs(init). */
export type SpawnWorker = (init: WorkerInit) => WorkerHandle;

/** Runs kernels over chunks on all threads of the pool. */
export class KernelPool {
  readonly threads: number;
  /** The main thread's kernel instance, for direct (unthreaded) calls. */
  readonly exports: KernelExports;
  private readonly kernels: Array<(...a: number[]) => unknown>;
  private readonly indexOf = new Map<string, number>();
  private readonly views: ControlViews;
  private readonly callArgs: number[] = [];
  private workers: WorkerHandle[] = [];
  private gen = 0;
  /** Per-kernel call counts and milliseconds while profiling is on (see profile()). */
  private profileData: Map<string, { calls: number; ms: number }> | null = null;

  private constructor(exports: KernelExports, views: ControlViews, threads: number) {
    this.exports = exports;
    this.views = views;
    this.threads = threads;
    this.kernels = [];
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== "function") continue;
      this.indexOf.set(name, this.kernels.length);
      this.kernels.push(value as (...a: number[]) => unknown);
    }
  }

  /** Creates a pool of `threads` threads (the main thread plus threads - 1 workers). */
  static async create(heap: Heap, module: WebAssembly.Module, threads: number, spawn: SpawnWorker): Promise<KernelPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new Error(`threads must be an integer from 1 to 256, got ${threads}`);
    }
    const exports = instantiateKernels(module, heap.memory);
    const controlPtr = heap.allocPersistent(CONTROL_BYTES);
    const views = controlViews(heap.memory, controlPtr);
    const pool = new KernelPool(exports, views, threads);
    for (let tid = 1; tid < threads; tid++) {
      pool.workers.push(spawn({ module, memory: heap.memory, controlPtr, tid }));
    }
    await pool.waitForWorkers();
    return pool;
  }

  /** Whether the module exports a kernel of this name. */
  has(kernel: string): boolean {
    return this.indexOf.has(kernel);
  }

  /**
   * Runs kernel(...args, chunk, tid) for every chunk in [0, nChunks) and returns when all are
   * done. A job of one chunk runs on the main thread without waking anyone.
   */
  run(kernel: string, args: readonly number[], nChunks: number): void {
    if (!this.profileData) return this.dispatch(kernel, args, nChunks);
    this.timed(kernel, () => this.dispatch(kernel, args, nChunks));
  }

  /** Runs fn, timed under `name` while profiling is on (work done outside the kernels, e.g. native). */
  timed<T>(name: string, fn: () => T): T {
    if (!this.profileData) return fn();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const entry = this.profileData.get(name) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += performance.now() - t0;
      this.profileData.set(name, entry);
    }
  }

  /**
   * Tells the workers to sleep (Atomics.wait) rather than spin until the next job: the main
   * thread is about to run native code with threads of its own.
   */
  park(): void {
    if (this.threads > 1) Atomics.store(this.views.ints, PARK, 1);
  }

  /** Starts (on = true) or stops timing every kernel call; returns what was collected. */
  profile(on: boolean): Map<string, { calls: number; ms: number }> {
    const collected = this.profileData ?? new Map();
    this.profileData = on ? new Map() : null;
    return collected;
  }

  private dispatch(kernel: string, args: readonly number[], nChunks: number): void {
    const index = this.indexOf.get(kernel);
    if (index === undefined) throw new Error(`unknown kernel '${kernel}'`);
    if (args.length > MAX_ARGS) throw new Error(`kernel '${kernel}': too many arguments (${args.length})`);
    if (nChunks <= 0) return;
    if (nChunks === 1 || this.threads === 1) return this.runHere(index, args, nChunks);
    const { ints, claim, args: argView } = this.views;
    for (let i = 0; i < args.length; i++) argView[i] = args[i];
    ints[FN] = index;
    ints[NARGS] = args.length;
    ints[NCHUNKS] = nChunks;
    ints[PARK] = 0;
    Atomics.store(ints, DONE, 0);
    this.gen = (this.gen + 1) | 0;
    Atomics.store(claim, 0, BigInt(this.gen) << 32n);
    Atomics.store(ints, GEN, this.gen);
    Atomics.notify(ints, GEN);
    const ran = runClaimedChunks(this.views, this.kernels, this.gen, 0, this.callArgs);
    Atomics.add(ints, DONE, ran);
    while (Atomics.load(ints, DONE) < nChunks) {
      // Spin: the remaining chunks are already running on other threads.
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    Atomics.store(this.views.ints, SHUTDOWN, 1);
    Atomics.store(this.views.ints, GEN, (this.gen = (this.gen + 1) | 0));
    Atomics.notify(this.views.ints, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }

  private runHere(index: number, args: readonly number[], nChunks: number): void {
    const fn = this.kernels[index];
    const call = this.callArgs;
    call.length = args.length + 2;
    for (let i = 0; i < args.length; i++) call[i] = args[i];
    call[args.length + 1] = 0;
    for (let c = 0; c < nChunks; c++) {
      call[args.length] = c;
      fn.apply(null, call);
    }
  }

  private async waitForWorkers(): Promise<void> {
    const { ints } = this.views;
    const expected = this.threads - 1;
    const deadline = Date.now() + 30_000;
    while (Atomics.load(ints, READY) < expected) {
      if (Date.now() > deadline) throw new Error(`kernel workers did not start (${Atomics.load(ints, READY)}/${expected} ready)`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}
