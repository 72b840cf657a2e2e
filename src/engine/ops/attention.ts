/** Fused multi-head attention with optional RoPE: causal, padded bidirectional, or cross. */
import { attentionBackward, attentionForward, ropeBackward, ropeForward } from "../attention-kernels.js";
import type { Tensor } from "../tensor.js";
import { assertRank, output } from "./common.js";

/** Rotary position embedding of queries and keys. */
export interface RopeOptions {
  base: number;
  /** Absolute position of the first query (default: Tk − Tq, i.e. the queries are the last positions). */
  qPos0?: number;
  /** Absolute position of the first key (default 0). */
  kPos0?: number;
}

/** How attention sees its keys. */
export interface AttentionOptions {
  heads: number;
  /** Query t sees key j only when j <= t + Tk − Tq. */
  causal: boolean;
  /** (B, Tk) of 1 (keep) and 0 (padding), or null. */
  mask?: Tensor | null;
  rope?: RopeOptions | null;
  /** Softmax scale (default 1/√dh). */
  scale?: number;
}

/**
 * softmax(q·kᵀ/√dh)·v per head. q is (B, Tq, A), k and v are (B, Tk, A) with A = heads·dh;
 * the result is (B, Tq, A). With rope, q and k are rotated first (inside the op).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  for (const t of [q, k, v]) assertRank("attention", t, [3]);
  const [B, Tq, A] = q.shape;
  const Tk = k.shape[1];
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[2] !== A || v.shape[2] !== A || v.shape[1] !== Tk) {
    throw new Error(`attention: shapes do not match: q ${q.describe()}, k ${k.describe()}, v ${v.describe()}`);
  }
  const H = options.heads;
  if (!Number.isInteger(H) || H <= 0 || A % H !== 0) throw new Error(`attention: ${H} heads do not divide width ${A}`);
  const mask = options.mask ?? null;
  if (mask && mask.size !== B * Tk) throw new Error(`attention: mask ${mask.describe()} does not match (B, Tk) = (${B}, ${Tk})`);
  const dims = { B, Tq, Tk, H, dh: A / H, causal: options.causal, mask: mask?.ptr ?? 0, scale: options.scale };
  const e = q.engine;
  const rope = options.rope ?? null;
  const qPos0 = rope?.qPos0 ?? Tk - Tq;
  const kPos0 = rope?.kPos0 ?? 0;
  const rotate = (x: Tensor, T: number, pos0: number) => {
    if (!rope) return x;
    const r = e.empty(x.shape);
    ropeForward(e.pool, { x: x.ptr, out: r.ptr, B, T, H, dh: A / H, pos0, base: rope.base });
    return r;
  };
  const qr = rotate(q, Tq, qPos0);
  const kr = rotate(k, Tk, kPos0);
  const y = output(e, [B, Tq, A], [q, k, v]);
  const lse = e.empty([B, H, Tq]);
  attentionForward(e.pool, e.heap, { ...dims, q: qr.ptr, k: kr.ptr, v: v.ptr, o: y.ptr, lse: lse.ptr });
  e.record([q, k, v], () => {
    // The kernel accumulates; rotated inputs get fresh zeroed buffers, rotated back afterwards.
    const target = (x: Tensor) => (rope || !x.requiresGrad ? e.temp(x.shape).ptr : e.gradZeroed(x));
    const dq = target(q), dk = target(k);
    const dv = v.requiresGrad ? e.gradZeroed(v) : e.temp(v.shape).ptr;
    attentionBackward(e.pool, e.heap, { ...dims, q: qr.ptr, k: kr.ptr, v: v.ptr, o: y.ptr, lse: lse.ptr, dO: e.gradOf(y).ptr, dq, dk, dv });
    if (!rope) return;
    const unrotate = (x: Tensor, d: number, T: number, pos0: number) => {
      if (x.requiresGrad) ropeBackward(e.pool, { dy: d, dx: e.gradZeroed(x), B, T, H, dh: A / H, pos0, base: rope.base });
    };
    unrotate(q, dq, Tq, qPos0);
    unrotate(k, dk, Tk, kPos0);
  });
  return y;
}
