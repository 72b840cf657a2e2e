/** Tensors: a shape over Float32 (or Int32) storage in the engine's shared memory. */
import type { Engine } from "./engine.js";

/** Element types a tensor can hold: f32 for values, i32 for token ids and targets. */
export type DType = "f32" | "i32";

/** Options of a new tensor. */
export interface TensorOptions {
  dtype?: DType;
  /** Persistent tensors outlive the step (parameters, optimizer state); others live in the arena. */
  persistent?: boolean;
  requiresGrad?: boolean;
  name?: string;
}

/** A dense row-major tensor at a fixed place in the engine's memory. */
export class Tensor {
  readonly engine: Engine;
  /** Byte offset in the shared memory. */
  readonly ptr: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  readonly persistent: boolean;
  requiresGrad: boolean;
  name: string;
  /** The gradient, once some backward pass has produced one. */
  grad: Tensor | null = null;
  /** For a reshaped view: the tensor whose storage and gradient it shares. */
  readonly base: Tensor | null;

  constructor(engine: Engine, ptr: number, shape: readonly number[], options: TensorOptions & { base?: Tensor } = {}) {
    this.engine = engine;
    this.ptr = ptr;
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.dtype = options.dtype ?? "f32";
    this.persistent = options.persistent ?? false;
    this.requiresGrad = options.requiresGrad ?? false;
    this.name = options.name ?? "";
    this.base = options.base ?? null;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Size of the last dimension. */
  get lastDim(): number {
    return this.shape[this.shape.length - 1];
  }

  /** A live view of the values (changes when the engine writes them). */
  view(): Float32Array {
    if (this.dtype !== "f32") throw new Error(`tensor ${this.describe()} holds i32; use ints()`);
    return this.engine.heap.f32.subarray(this.ptr >>> 2, (this.ptr >>> 2) + this.size);
  }

  /** A live view of i32 values. */
  ints(): Int32Array {
    if (this.dtype !== "i32") throw new Error(`tensor ${this.describe()} holds f32; use view()`);
    return this.engine.heap.i32.subarray(this.ptr >>> 2, (this.ptr >>> 2) + this.size);
  }

  /** A copy of the values that stays valid after the arena is reset. */
  toArray(): Float32Array {
    return this.view().slice();
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got ${this.describe()}`);
    return this.view()[0];
  }

  /** The same storage with another shape of equal size; gradients flow through it for free. */
  reshape(shape: readonly number[]): Tensor {
    const resolved = resolveShape(shape, this.size);
    return new Tensor(this.engine, this.ptr, resolved, {
      dtype: this.dtype, persistent: this.persistent, requiresGrad: this.requiresGrad, name: this.name, base: this.base ?? this,
    });
  }

  /** Name and shape, for error messages. */
  describe(): string {
    return `${this.name || "tensor"}[${this.shape.join(", ")}]`;
  }
}

/** Product of the dimensions, after checking each is a non-negative integer. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

/** Resolves one -1 dimension so the shape has `size` elements. */
function resolveShape(shape: readonly number[], size: number): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free >= 0) {
    const rest = shapeSize(out.filter((_, i) => i !== free));
    if (rest === 0 || size % rest !== 0) throw new Error(`cannot reshape ${size} elements to [${shape.join(", ")}]`);
    out[free] = size / rest;
  }
  if (shapeSize(out) !== size) throw new Error(`cannot reshape ${size} elements to [${shape.join(", ")}]`);
  return out;
}
