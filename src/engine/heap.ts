/**
 * The engine's memory: one shared WebAssembly.Memory, allocated up front (growing it would
 * leave other threads' views stale). Persistent buffers (parameters, gradients, optimizer
 * state) grow up from the bottom; per-step activations live in an arena that grows down from
 * the top and is reset after each step, so model code never frees anything.
 */
import { PAGE_BYTES } from "./kernels.js";

/** Every allocation starts on a cache-line boundary, which also satisfies SIMD alignment. */
export const ALIGN = 64;
/** Bytes kept free at the bottom for the kernel module's own static data. */
const RESERVED_BYTES = 1 << 20;

/** A position of the arena, to release everything allocated after it. */
export type ArenaMark = number;

/** Owns the shared memory and hands out aligned byte ranges from it. */
export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly bytes: number;
  /** Float32 view over the whole memory (never stale: the memory never grows). */
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  private bottom = RESERVED_BYTES;
  private top: number;
  private peakArena = 0;

  constructor(megabytes: number) {
    const pages = Math.ceil((megabytes * 1024 * 1024) / PAGE_BYTES);
    if (!Number.isInteger(megabytes) || megabytes < 16 || pages > 65536) {
      throw new Error(`memory must be an integer between 16 and 4096 MB, got ${megabytes}`);
    }
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.bytes = pages * PAGE_BYTES;
    this.top = this.bytes;
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /** Allocates bytes that live until the program ends (parameters, optimizer state). */
  allocPersistent(bytes: number): number {
    const ptr = alignUp(this.bottom);
    this.ensure(ptr + bytes, this.top);
    this.bottom = ptr + bytes;
    return ptr;
  }

  /** Allocates bytes in the arena; they are valid until the next reset or release. */
  allocArena(bytes: number): number {
    const ptr = alignDown(this.top - bytes);
    this.ensure(this.bottom, ptr);
    this.top = ptr;
    this.peakArena = Math.max(this.peakArena, this.bytes - this.top);
    return ptr;
  }

  /** The current arena position. */
  mark(): ArenaMark {
    return this.top;
  }

  /** Frees every arena allocation made after `mark`. */
  release(mark: ArenaMark): void {
    this.top = mark;
  }

  /** Frees the whole arena (after each training step). */
  resetArena(): void {
    this.top = this.bytes;
  }

  /** Bytes in use: persistent, current arena, and the arena's high-water mark. */
  usage(): { persistent: number; arena: number; peakArena: number } {
    return { persistent: this.bottom, arena: this.bytes - this.top, peakArena: this.peakArena };
  }

  private ensure(low: number, high: number): void {
    if (low > high) {
      const mb = (this.bytes / 1048576).toFixed(0);
      throw new Error(`engine memory exhausted (${mb} MB): pass a larger --memory or a smaller batch`);
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function alignDown(n: number): number {
  return Math.floor(n / ALIGN) * ALIGN;
}
