/** AdamW with decoupled weight decay, global-norm clipping and a non-finite check. */
import { ELEMS_PER_CHUNK, type Engine } from "./engine.js";
import type { Tensor } from "./tensor.js";

/** AdamW hyperparameters (PyTorch's meaning). */
export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Defaults in the nanoGPT style. */
export const ADAMW_DEFAULTS: AdamWConfig = { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/** Raised when a loss or gradient stops being finite; names the step and the tensor. */
export class NonFiniteError extends Error {}

/** AdamW over a list of parameters; matrices decay, vectors (gains, biases) do not. */
export class AdamW {
  readonly config: AdamWConfig;
  readonly params: Tensor[];
  /** First and second moments, persistent, in the order of params. */
  readonly m: Tensor[];
  readonly v: Tensor[];
  /** Optimizer steps taken so far. */
  step = 0;
  private readonly decays: boolean[];

  constructor(engine: Engine, params: Tensor[], config: Partial<AdamWConfig> = {}, decays = (p: Tensor) => p.rank >= 2) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    validate(this.config);
    this.params = params;
    this.m = params.map((p) => engine.zeros(p.shape, { persistent: true, name: `${p.name}.adam_m` }));
    this.v = params.map((p) => engine.zeros(p.shape, { persistent: true, name: `${p.name}.adam_v` }));
    this.decays = params.map(decays);
  }

  /** Applies one update with learning rate lr; gradients are multiplied by gradScale first. */
  update(lr: number, gradScale = 1): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    this.params.forEach((p, i) => {
      const wd = this.decays[i] ? weightDecay : 0;
      const state = [p.ptr, p.grad!.ptr, this.m[i].ptr, this.v[i].ptr];
      p.engine.runElementwise("adamw_step", [...state, lr, beta1, beta2, eps, wd, bc1, bc2, gradScale], p.size);
    });
  }

  /** Sets every gradient to zero (after the update). */
  zeroGrad(): void {
    for (const p of this.params) p.engine.fill(p.grad!.ptr, p.size, 0);
  }
}

function validate(c: AdamWConfig): void {
  const bad = (name: string, v: number) => {
    throw new Error(`AdamW: ${name} out of range: ${v}`);
  };
  if (!(c.lr >= 0)) bad("lr", c.lr);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) bad("beta1", c.beta1);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) bad("beta2", c.beta2);
  if (!(c.eps > 0)) bad("eps", c.eps);
  if (!(c.weightDecay >= 0)) bad("weightDecay", c.weightDecay);
}

/** The global L2 norm of the tensors' gradients, summed in a fixed order (thread-independent). */
export function gradNorm(engine: Engine, params: readonly Tensor[]): number {
  let total = 0;
  const mark = engine.heap.mark();
  for (const p of params) {
    const chunks = Math.ceil(p.size / ELEMS_PER_CHUNK);
    const partial = engine.heap.allocArena(chunks * 8);
    engine.pool.run("sumsq_partial", [p.grad!.ptr, partial, p.size, ELEMS_PER_CHUNK], chunks);
    const values = new Float64Array(engine.heap.memory.buffer, partial, chunks);
    for (let i = 0; i < chunks; i++) total += values[i];
  }
  engine.heap.release(mark);
  return Math.sqrt(total);
}

/** The factor PyTorch's clip_grad_norm_ applies: min(1, maxNorm / (norm + 1e-6)). */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/** Throws NonFiniteError naming the first tensor holding NaN or Infinity. */
export function assertFinite(engine: Engine, tensors: ReadonlyArray<{ name: string; ptr: number; size: number }>, where: string): void {
  const mark = engine.heap.mark();
  try {
    for (const t of tensors) {
      const chunks = Math.ceil(t.size / ELEMS_PER_CHUNK);
      const flags = engine.heap.allocArena(chunks * 4);
      engine.pool.run("nonfinite_partial", [t.ptr, flags, t.size, ELEMS_PER_CHUNK], chunks);
      const f = new Int32Array(engine.heap.memory.buffer, flags, chunks);
      if (f.some((x) => x !== 0)) throw new NonFiniteError(`non-finite values (NaN or Infinity) in ${t.name || "a tensor"} at ${where}`);
    }
  } finally {
    engine.heap.release(mark);
  }
}
