/**
 * The layout of the control block that the main thread and the workers share. Jobs are
 * dispatched through it with Atomics, not with messages: a message round trip costs tens of
 * microseconds, a spinning worker sees a new job in about one.
 */

/** Int32 slots of the control block. */
export const GEN = 0; // job generation, bumped once per dispatch
export const DONE = 1; // chunks finished in the current job
export const FN = 2; // kernel index in the export list
export const NARGS = 3;
export const NCHUNKS = 4;
export const SHUTDOWN = 5;
export const READY = 6; // workers that have started
export const PARK = 7; // 1: the main thread runs native code, so waiting workers sleep instead of spinning
/** BigInt64 slot (byte offset 32): (generation << 32) | next chunk, claimed by compare-exchange. */
export const CLAIM_BYTE_OFFSET = 32;
/** Float64 arguments start here. */
export const ARGS_BYTE_OFFSET = 64;
export const MAX_ARGS = 24;
/** Total bytes of the control block. */
export const CONTROL_BYTES = ARGS_BYTE_OFFSET + MAX_ARGS * 8;

/** Spin iterations before a waiting thread falls back to Atomics.wait. */
export const SPIN_LIMIT = 200_000;

/** What a worker needs to join the pool. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  controlPtr: number;
  tid: number;
}

/** Views of the control block over the shared memory. */
export interface ControlViews {
  ints: Int32Array;
  claim: BigInt64Array;
  args: Float64Array;
}

/** Makes the typed views of a control block at `ptr` (8-byte aligned). */
export function controlViews(memory: WebAssembly.Memory, ptr: number): ControlViews {
  const buffer = memory.buffer;
  return {
    ints: new Int32Array(buffer, ptr, CLAIM_BYTE_OFFSET / 4),
    claim: new BigInt64Array(buffer, ptr + CLAIM_BYTE_OFFSET, 1),
    args: new Float64Array(buffer, ptr + ARGS_BYTE_OFFSET, MAX_ARGS),
  };
}

/**
 * Claims the next chunk of job `gen`, or returns -1 when the job is exhausted or has been
 * replaced. The generation tag makes a late thread unable to take a chunk of a newer job
 * with arguments it read for an older one.
 */
export function claimChunk(claim: BigInt64Array, gen: number, nChunks: number): number {
  const tag = BigInt(gen) << 32n;
  for (;;) {
    const current = Atomics.load(claim, 0);
    if ((current & ~0xffffffffn) !== tag) return -1;
    const chunk = Number(current & 0xffffffffn);
    if (chunk >= nChunks) return -1;
    if (Atomics.compareExchange(claim, 0, current, current + 1n) === current) return chunk;
  }
}

/** Runs every chunk this thread can claim; returns how many it ran. */
export function runClaimedChunks(
  views: ControlViews,
  kernels: Array<(...args: number[]) => unknown>,
  gen: number,
  tid: number,
  callArgs: number[],
): number {
  const { ints, claim, args } = views;
  const fn = kernels[ints[FN]];
  const nArgs = ints[NARGS];
  const nChunks = ints[NCHUNKS];
  callArgs.length = nArgs + 2;
  for (let i = 0; i < nArgs; i++) callArgs[i] = args[i];
  callArgs[nArgs + 1] = tid;
  let ran = 0;
  for (let c = claimChunk(claim, gen, nChunks); c >= 0; c = claimChunk(claim, gen, nChunks)) {
    callArgs[nArgs] = c;
    fn.apply(null, callArgs);
    ran++;
  }
  return ran;
}
