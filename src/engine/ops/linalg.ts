/** Matrix products: matmul (optionally batched and transposed) and linear layers. */
import type { Tensor } from "../tensor.js";
import { assertDtype, output } from "./common.js";

/** Options of matmul: which operands are used transposed. */
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/**
 * op(a) · op(b). a is (M, K) or (batch, M, K) (transposed: K, M); b is (K, N) or
 * (batch, K, N) (transposed: N, K). A rank-2 b is shared by every batch entry.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  assertDtype("matmul", a, "f32");
  assertDtype("matmul", b, "f32");
  const { transA = false, transB = false } = options;
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new Error(`matmul: operands must have rank 2 or 3, got ${a.describe()} and ${b.describe()}`);
  }
  const batch = a.rank === 3 ? a.shape[0] : 1;
  if (b.rank === 3 && (a.rank !== 3 || b.shape[0] !== batch)) {
    throw new Error(`matmul: batch sizes differ: ${a.describe()} and ${b.describe()}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2) throw new Error(`matmul: inner sizes differ: ${a.describe()}${transA ? "ᵀ" : ""} · ${b.describe()}${transB ? "ᵀ" : ""}`);
  const e = a.engine;
  const y = output(e, a.rank === 3 ? [batch, m, n] : [m, n], [a, b]);
  const strideB = b.rank === 3 ? br * bc : 0;
  e.matmul({ a: a.ptr, b: b.ptr, c: y.ptr, m, n, k, transA, transB, batch, strideA: m * k, strideB, strideC: m * n });
  e.record([a, b], () => {
    const dy = e.gradOf(y).ptr;
    if (a.requiresGrad) {
      // dA = dY · op(B)ᵀ, or its transpose when A was used transposed.
      const g = e.gradFor(a);
      const p = transA
        ? { a: b.ptr, b: dy, m: k, n: m, k: n, transA: transB, transB: true }
        : { a: dy, b: b.ptr, m, n: k, k: n, transA: false, transB: !transB };
      e.matmul({ ...p, c: g.ptr, accumulate: g.acc === 1, batch,
        strideA: transA ? strideB : m * n, strideB: transA ? m * n : strideB, strideC: m * k });
    }
    if (b.requiresGrad) {
      // dB = op(A)ᵀ · dY, or its transpose when B was used transposed; summed over a shared batch.
      const g = e.gradFor(b);
      const p = transB
        ? { a: dy, b: a.ptr, m: n, n: k, k: m, transA: true, transB: transA }
        : { a: a.ptr, b: dy, m: k, n, k: m, transA: !transA, transB: false };
      for (let i = 0; i < (b.rank === 3 ? 1 : batch); i++) {
        const shared = b.rank === 2;
        e.matmul({
          ...p,
          a: p.a + (shared ? i * (transB ? m * n : m * k) * 4 : 0),
          b: p.b + (shared ? i * (transB ? m * k : m * n) * 4 : 0),
          c: g.ptr, accumulate: g.acc === 1 || i > 0,
          batch: shared ? 1 : batch,
          strideA: transB ? m * n : m * k, strideB: transB ? m * k : m * n, strideC: k * n,
        });
      }
    }
  });
  return y;
}

/** x · Wᵀ (+ bias): x is (..., in), W is (out, in) as in PyTorch, bias is (out). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be (out, in), got ${weight.describe()}`);
  const [outDim, inDim] = weight.shape;
  if (x.lastDim !== inDim) throw new Error(`linear: input ${x.describe()} does not match weight ${weight.describe()}`);
  const rows = x.size / inDim;
  const y2 = matmul(x.reshape([rows, inDim]), weight, { transB: true });
  const y = bias ? addBias(y2, bias) : y2;
  return y.reshape([...x.shape.slice(0, -1), outDim]);
}

/** y + bias broadcast over rows: y is (rows, n), bias is (n). */
export function addBias(y: Tensor, bias: Tensor): Tensor {
  const n = y.lastDim;
  if (bias.size !== n) throw new Error(`bias ${bias.describe()} does not match ${y.describe()}`);
  const e = y.engine;
  const rows = y.size / n;
  const out = output(e, y.shape, [y, bias]);
  e.runRows("add_rowvec", [y.ptr, bias.ptr, out.ptr, rows, n], rows, n * 4);
  e.record([y, bias], () => {
    const dy = e.gradOf(out).ptr;
    if (y.requiresGrad) {
      const g = e.gradFor(y);
      if (g.acc) e.runElementwise("axpy_f32", [dy, g.ptr, 1], y.size);
      else e.runElementwise("scale_f32", [dy, 1, g.ptr], y.size);
    }
    if (bias.requiresGrad) {
      const per = 32;
      e.pool.run("col_sum", [dy, e.gradZeroed(bias), rows, n, per], Math.ceil(n / per));
    }
  });
  return out;
}
