/** A named collection of parameters, initialised from a seeded generator. */
import type { Engine } from "../engine/engine.js";
import type { Rng } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";

/** Parameters by name, in creation order (the order of checkpoints and the optimizer). */
export class ParamStore {
  readonly engine: Engine;
  private readonly rng: Rng;
  private readonly byName = new Map<string, Tensor>();

  constructor(engine: Engine, rng: Rng) {
    this.engine = engine;
    this.rng = rng;
  }

  /** A parameter drawn from N(0, std²). */
  normal(name: string, shape: number[], std: number): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, shape, this.rng.normals(n, std));
  }

  /** A parameter of ones (norm gains). */
  ones(name: string, shape: number[]): Tensor {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1));
  }

  /** A parameter of zeros (log-scales that start at a factor of 1). */
  zeros(name: string, shape: number[]): Tensor {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  }

  /** The parameter of this name; throws if there is none. */
  get(name: string): Tensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named '${name}'`);
    return t;
  }

  /** All parameters in creation order. */
  list(): Tensor[] {
    return [...this.byName.values()];
  }

  /** Number of parameter values (elements) in the store. */
  count(): number {
    return this.list().reduce((sum, t) => sum + t.size, 0);
  }

  /** Names in creation order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Overwrites a parameter's values (loading a checkpoint or a fixture). */
  load(name: string, values: Float32Array): void {
    const t = this.get(name);
    if (values.length !== t.size) throw new Error(`parameter '${name}' has ${t.size} values, got ${values.length}`);
    t.view().set(values);
  }

  private add(name: string, shape: number[], values: Float32Array): Tensor {
    if (this.byName.has(name)) throw new Error(`parameter '${name}' defined twice`);
    const t = this.engine.parameter(name, shape, values);
    this.byName.set(name, t);
    return t;
  }
}
