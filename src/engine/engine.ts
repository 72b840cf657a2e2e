/**
 * The engine: memory, kernel pool and the autograd tape. Model code creates tensors and calls
 * ops; the tape records each op's backward; `backward(loss)` runs them in reverse;
 * `endStep()` forgets the tape and frees every activation at once.
 */
import { wasmGemm, type Gemm } from "./gemm.js";
import type { Heap } from "./heap.js";
import type { MatmulParams } from "./matmul-params.js";
import type { KernelPool } from "./pool.js";
import { Tensor, shapeSize, type TensorOptions } from "./tensor.js";

/** Elements per chunk of elementwise kernels; fixed so reductions sum in a fixed order. */
export const ELEMS_PER_CHUNK = 16384;

/** A gradient buffer to write into: `acc` says whether it already holds values to add to. */
export interface GradTarget {
  ptr: number;
  acc: 0 | 1;
}

/** Owns the memory, the threads and the tape of one training or inference process. */
export class Engine {
  readonly heap: Heap;
  readonly pool: KernelPool;
  readonly variant: string;
  /** What computes the matrix products (WebAssembly on the pool, or native). */
  readonly gemm: Gemm;
  private tape: Array<() => void> = [];
  private gradEnabled = true;
  /** Arena buffers free for reuse during backward, by byte size. */
  private recycled = new Map<number, number[]>();
  /** Buffers that become free when the running backward step returns. */
  private dying: Array<{ ptr: number; bytes: number }> = [];
  private inBackward = false;

  constructor(heap: Heap, pool: KernelPool, variant = "simd", gemm: Gemm = wasmGemm(pool, heap, variant)) {
    this.heap = heap;
    this.pool = pool;
    this.variant = variant;
    this.gemm = gemm;
  }

  /** Runs C = op(A)·op(B) (+ C) on this engine's backend. */
  matmul(p: MatmulParams): void {
    this.gemm.run(p);
  }

  /** Threads the kernels run on (including the main thread). */
  get threads(): number {
    return this.pool.threads;
  }

  /** An uninitialised tensor. */
  empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const bytes = Math.max(4, shapeSize(shape) * 4);
    const ptr = options.persistent ? this.heap.allocPersistent(bytes) : this.heap.allocArena(bytes);
    return new Tensor(this, ptr, shape, options);
  }

  /** A tensor of zeros. */
  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = this.empty(shape, options);
    this.fill(t.ptr, t.size, 0);
    return t;
  }

  /** A tensor holding a copy of `values`. */
  fromArray(values: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = this.empty(shape, options);
    if (values.length !== t.size) throw new Error(`${values.length} values do not fill shape [${shape.join(", ")}]`);
    if (t.dtype === "i32") t.ints().set(values);
    else t.view().set(values);
    return t;
  }

  /** A trainable persistent tensor with its own persistent gradient buffer. */
  parameter(name: string, shape: readonly number[], init: Float32Array): Tensor {
    const p = this.fromArray(init, shape, { persistent: true, requiresGrad: true, name });
    p.grad = this.zeros(shape, { persistent: true, name: `${name}.grad` });
    return p;
  }

  /** Whether ops called now are recorded for backward. */
  get recording(): boolean {
    return this.gradEnabled;
  }

  /** Runs fn without recording anything on the tape (inference, EMA targets). */
  noGrad<T>(fn: () => T): T {
    const previous = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = previous;
    }
  }

  /**
   * Runs fn and frees every arena allocation it made. For inference loops (rollout) that
   * write their results into buffers allocated outside; nothing may be recorded inside.
   */
  scoped<T>(fn: () => T): T {
    if (this.gradEnabled) throw new Error("scoped() frees memory the tape may need: use it inside noGrad()");
    const mark = this.heap.mark();
    try {
      return fn();
    } finally {
      this.heap.release(mark);
    }
  }

  /** Records a backward step if any of the inputs needs a gradient; says whether it did. */
  record(inputs: ReadonlyArray<Tensor | null | undefined>, backward: () => void): boolean {
    if (!this.gradEnabled || !inputs.some((t) => t?.requiresGrad)) return false;
    this.tape.push(backward);
    return true;
  }

  /**
   * Backpropagates from a scalar loss (gradient 1) through everything recorded. An op's
   * backward is the last reader of its output's gradient, so that buffer (and the op's
   * temporaries) is recycled as soon as the step returns: peak memory holds the activations
   * plus a few layers of gradients, not every gradient at once. Leaves and parameters keep
   * their gradients; intermediate tensors do not.
   */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error(`backward needs a scalar loss, got ${loss.describe()}`);
    const g = this.gradFor(loss);
    this.heap.f32[g.ptr >>> 2] = 1;
    this.inBackward = true;
    try {
      for (let i = this.tape.length - 1; i >= 0; i--) {
        this.tape[i]();
        for (const d of this.dying) this.recycle(d.ptr, d.bytes);
        this.dying = [];
      }
    } finally {
      this.inBackward = false;
      this.dying = [];
      this.tape = [];
    }
  }

  /** Forgets the tape and frees all activations and their gradients. */
  endStep(): void {
    this.tape = [];
    this.recycled.clear();
    this.heap.resetArena();
  }

  /** The gradient buffer of t, allocated uninitialised the first time (then acc = 0). */
  gradFor(t: Tensor): GradTarget {
    const owner = t.base ?? t;
    if (owner.grad) return { ptr: owner.grad.ptr, acc: 1 };
    owner.grad = new Tensor(this, this.allocReusable(owner.size * 4), owner.shape, { name: `${owner.name}.grad` });
    return { ptr: owner.grad.ptr, acc: 0 };
  }

  /** A scratch tensor for use inside one backward step; recycled when the step returns. */
  temp(shape: readonly number[], zeroed = true): Tensor {
    const t = new Tensor(this, this.allocReusable(shapeSize(shape) * 4), shape);
    if (this.inBackward) this.dying.push({ ptr: t.ptr, bytes: t.size * 4 });
    if (zeroed) this.fill(t.ptr, t.size, 0);
    return t;
  }

  /** The gradient buffer of t, zero-filled the first time, for kernels that only accumulate. */
  gradZeroed(t: Tensor): number {
    const target = this.gradFor(t);
    if (!target.acc) this.fill(target.ptr, t.size, 0);
    return target.ptr;
  }

  /** The gradient flowing into t during backward (its buffer must exist). */
  gradOf(t: Tensor): Tensor {
    const owner = t.base ?? t;
    if (!owner.grad) {
      // Nothing downstream used t: a zero gradient, made explicit so backward steps stay simple.
      this.gradZeroed(owner);
    }
    const grad = owner.grad!;
    if (this.inBackward && !owner.persistent) {
      // Only t's producer reads t's gradient, and it is running now: free it afterwards.
      this.dying.push({ ptr: grad.ptr, bytes: grad.size * 4 });
      owner.grad = null;
    }
    return grad.reshape(t.shape);
  }

  private allocReusable(bytes: number): number {
    const size = Math.max(4, bytes);
    const free = this.recycled.get(size);
    return free && free.length > 0 ? free.pop()! : this.heap.allocArena(size);
  }

  private recycle(ptr: number, bytes: number): void {
    const size = Math.max(4, bytes);
    const list = this.recycled.get(size);
    if (list) list.push(ptr);
    else this.recycled.set(size, [ptr]);
  }

  /** Runs an elementwise kernel over n elements in fixed-size chunks. */
  runElementwise(kernel: string, args: number[], n: number): void {
    this.pool.run(kernel, [...args, n, ELEMS_PER_CHUNK], Math.ceil(n / ELEMS_PER_CHUNK));
  }

  /** Runs a row kernel over `rows` rows, in enough chunks for every thread to take several. */
  runRows(kernel: string, args: number[], rows: number, rowBytes: number): void {
    const per = rowsPerChunk(rows, rowBytes, this.threads);
    this.pool.run(kernel, [...args, per], Math.ceil(rows / per));
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Sets n floats at ptr to value. */
  fill(ptr: number, n: number, value: number): void {
    if (n > 0) this.runElementwise("fill_f32", [ptr, value], n);
  }
}

/** Rows per chunk: about 8 chunks per thread, but no chunk smaller than ~16 KB of work. */
function rowsPerChunk(rows: number, rowBytes: number, threads: number): number {
  if (threads === 1) return Math.max(1, rows);
  const byCount = Math.ceil(rows / (threads * 8));
  const byBytes = Math.ceil(16384 / Math.max(1, rowBytes));
  return Math.max(1, Math.min(rows, Math.max(byCount, byBytes)));
}
