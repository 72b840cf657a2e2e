/**
 * Fused attention and rotary-embedding kernels on the pool: validates the parameters, sizes
 * per-thread scratch and runs asm/attention.ts (attention_forward, attention_backward) and
 * asm/rope.ts (rope_forward, rope_backward).
 *
 * Layouts (f32, byte offsets into the heap): q element (b, t, h, i) at
 * q + 4*((b*Tq + t)*qStride + h*dh + i); k, v likewise with Tk and their strides; o and dO use
 * oStride; dq, dk, dv share the strides of q, k, v; lse at lse + 4*((b*H + h)*Tq + t). Strides
 * default to H*dh (contiguous); pass 3*H*dh to read q, k, v as column slices of a fused QKV.
 */
import type { Heap } from "./heap.js";
import type { KernelPool } from "./pool.js";

/** Parameters of attentionForward. */
export interface AttentionForwardParams {
  q: number; k: number; v: number;   // inputs, (B, Tq|Tk, H, dh) strided rows
  o: number;                         // output, (B, Tq, H, dh) with oStride
  lse: number;                       // output log-sum-exp, (B, H, Tq) contiguous
  mask?: number;                     // optional (B, Tk) f32 key mask, 1 = keep, 0 = pad (0/undefined = none)
  B: number; Tq: number; Tk: number; H: number; dh: number;
  qStride?: number; kStride?: number; vStride?: number; oStride?: number; // elements between tokens (default H*dh)
  causal: boolean;                   // key j visible to query t iff j <= t + Tk - Tq
  scale?: number;                    // score scale (default 1/sqrt(dh))
}

/** Parameters of attentionBackward: the forward's plus dO and the gradients accumulated into. */
export interface AttentionBackwardParams extends AttentionForwardParams {
  dO: number;                        // gradient of o, same layout as o
  dq: number; dk: number; dv: number; // accumulated (+=), same layouts as q, k, v
}

/** Parameters of ropeForward: out = rope(x); out may equal x (in place). */
export interface RopeForwardParams {
  x: number; out: number;            // (B, T, H, dh) strided rows, same stride
  B: number; T: number; H: number; dh: number;
  stride?: number;                   // elements between tokens (default H*dh)
  pos0?: number;                     // absolute position of t = 0 (default 0)
  base?: number;                     // frequency base (default 10000)
}

/** Parameters of ropeBackward: dx += ropeᵀ(dy); dx must not alias dy. */
export interface RopeBackwardParams {
  dy: number; dx: number;
  B: number; T: number; H: number; dh: number;
  stride?: number; pos0?: number; base?: number;
}

// Must match asm/attention.ts.
const BWD_BLOCK = 64;
/** Scratch strides are rounded to a cache line (16 floats). */
const LINE_FLOATS = 16;
/** Elements a rope chunk should cover at least. */
const ROPE_CHUNK_ELEMS = 16384;

/** o, lse = attention(q, k, v) over one chunk per (batch, head). */
export function attentionForward(pool: KernelPool, heap: Heap, p: AttentionForwardParams): void {
  const a = checkAttention("attentionForward", heap, p);
  checkTensor("attentionForward", heap, "o", p.o, p.B, p.Tq, a.oStride, a.width);
  checkTensor("attentionForward", heap, "lse", p.lse, 1, p.B * p.H * p.Tq, 1, 1);
  const tkp = roundUp(p.Tk, 8);
  const stride = roundUp((p.dh + 5) * tkp, LINE_FLOATS);
  const mark = heap.mark();
  try {
    const scratch = heap.allocArena(stride * 4 * pool.threads);
    pool.run("attention_forward", [
      p.q, p.k, p.v, p.o, p.lse, a.mask, p.B, p.Tq, p.Tk, p.H, p.dh,
      a.qStride, a.kStride, a.vStride, a.oStride, p.causal ? 1 : 0, a.scale, scratch, stride,
    ], p.B * p.H);
  } finally {
    heap.release(mark);
  }
}

/** dq, dk, dv += gradients of attention given dO and the forward's o and lse. */
export function attentionBackward(pool: KernelPool, heap: Heap, p: AttentionBackwardParams): void {
  const a = checkAttention("attentionBackward", heap, p);
  const name = "attentionBackward";
  checkTensor(name, heap, "o", p.o, p.B, p.Tq, a.oStride, a.width);
  checkTensor(name, heap, "dO", p.dO, p.B, p.Tq, a.oStride, a.width);
  checkTensor(name, heap, "lse", p.lse, 1, p.B * p.H * p.Tq, 1, 1);
  checkTensor(name, heap, "dq", p.dq, p.B, p.Tq, a.qStride, a.width);
  checkTensor(name, heap, "dk", p.dk, p.B, p.Tk, a.kStride, a.width);
  checkTensor(name, heap, "dv", p.dv, p.B, p.Tk, a.vStride, a.width);
  const tkp = roundUp(p.Tk, 8);
  const stride = roundUp((2 * p.dh + 1 + 2 * BWD_BLOCK) * tkp + BWD_BLOCK, LINE_FLOATS);
  const mark = heap.mark();
  try {
    const scratch = heap.allocArena(stride * 4 * pool.threads);
    pool.run("attention_backward", [
      p.q, p.k, p.v, p.o, p.dO, p.lse, p.dq, p.dk, p.dv, a.mask, p.B, p.Tq, p.Tk, p.H, p.dh,
      a.qStride, a.kStride, a.vStride, a.oStride, p.causal ? 1 : 0, a.scale, scratch, stride,
    ], p.B * p.H);
  } finally {
    heap.release(mark);
  }
}

/** out = rope(x) at positions pos0 + t (rotate-half convention); works in place. */
export function ropeForward(pool: KernelPool, p: RopeForwardParams): void {
  const r = checkRope("ropeForward", p, p.x, p.out);
  pool.run("rope_forward", [p.x, p.out, p.B, p.T, p.H, p.dh, r.stride, r.pos0, r.base, r.perChunk], r.chunks);
}

/** dx += ropeᵀ(dy) (rotation by −θ), the gradient of ropeForward. */
export function ropeBackward(pool: KernelPool, p: RopeBackwardParams): void {
  const r = checkRope("ropeBackward", p, p.dy, p.dx);
  if (p.dx === p.dy) throw new Error("ropeBackward: dx must not alias dy (the kernel accumulates into dx)");
  pool.run("rope_backward", [p.dy, p.dx, p.B, p.T, p.H, p.dh, r.stride, r.pos0, r.base, r.perChunk], r.chunks);
}

interface AttentionArgs {
  width: number;
  qStride: number; kStride: number; vStride: number; oStride: number;
  mask: number;
  scale: number;
}

function checkAttention(name: string, heap: Heap, p: AttentionForwardParams): AttentionArgs {
  for (const key of ["B", "Tq", "Tk", "H", "dh"] as const) positiveInt(name, key, p[key]);
  if (p.dh % 4 !== 0) throw new Error(`${name}: head dim dh must be a multiple of 4, got ${p.dh}`);
  const width = p.H * p.dh;
  const qStride = rowStride(name, "qStride", p.qStride, width);
  const kStride = rowStride(name, "kStride", p.kStride, width);
  const vStride = rowStride(name, "vStride", p.vStride, width);
  const oStride = rowStride(name, "oStride", p.oStride, width);
  if (p.B * p.H * p.Tq > 0x7fffffff || p.B * Math.max(p.Tq, p.Tk) * Math.max(qStride, kStride, vStride, oStride) > 0x3fffffff) {
    throw new Error(`${name}: tensors too large for 32-bit offsets`);
  }
  checkTensor(name, heap, "q", p.q, p.B, p.Tq, qStride, width);
  checkTensor(name, heap, "k", p.k, p.B, p.Tk, kStride, width);
  checkTensor(name, heap, "v", p.v, p.B, p.Tk, vStride, width);
  const mask = p.mask ?? 0;
  if (mask !== 0) checkTensor(name, heap, "mask", mask, 1, p.B * p.Tk, 1, 1);
  const scale = p.scale ?? 1 / Math.sqrt(p.dh);
  if (!Number.isFinite(scale)) throw new Error(`${name}: scale must be finite, got ${scale}`);
  if (typeof p.causal !== "boolean") throw new Error(`${name}: causal must be a boolean, got ${p.causal}`);
  return { width, qStride, kStride, vStride, oStride, mask, scale };
}

interface RopeArgs {
  stride: number; pos0: number; base: number; perChunk: number; chunks: number;
}

function checkRope(name: string, p: RopeForwardParams | RopeBackwardParams, src: number, dst: number): RopeArgs {
  for (const key of ["B", "T", "H", "dh"] as const) positiveInt(name, key, p[key]);
  if (p.dh % 2 !== 0) throw new Error(`${name}: head dim dh must be even, got ${p.dh}`);
  const stride = rowStride(name, "stride", p.stride, p.H * p.dh);
  const pos0 = p.pos0 ?? 0;
  if (!Number.isInteger(pos0) || pos0 < 0 || pos0 + p.T > 0x7fffffff) throw new Error(`${name}: pos0 must be a non-negative integer, got ${pos0}`);
  const base = p.base ?? 10000;
  if (!(Number.isFinite(base) && base > 0)) throw new Error(`${name}: base must be a positive number, got ${base}`);
  for (const [label, ptr] of [["source", src], ["destination", dst]] as const) {
    if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
      throw new Error(`${name}: ${label} must be a non-negative byte offset that is a multiple of 4, got ${ptr}`);
    }
  }
  const perChunk = Math.min(p.T, Math.max(1, Math.ceil(ROPE_CHUNK_ELEMS / (p.B * p.H * p.dh))));
  return { stride, pos0, base, perChunk, chunks: Math.ceil(p.T / perChunk) };
}

function positiveInt(name: string, key: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 0x3fffffff) {
    throw new Error(`${name}: ${key} must be a positive integer, got ${value}`);
  }
}

function rowStride(name: string, key: string, value: number | undefined, width: number): number {
  if (value === undefined) return width;
  if (!Number.isInteger(value) || value < width) {
    throw new Error(`${name}: ${key} must be an integer >= H*dh (${width}), got ${value}`);
  }
  return value;
}

/** Checks that `rows` groups of `tokens` rows of `width` floats, `stride` apart, fit in memory. */
function checkTensor(name: string, heap: Heap, label: string, ptr: number, rows: number, tokens: number, stride: number, width: number): void {
  if (!Number.isInteger(ptr) || ptr <= 0 || ptr % 4 !== 0) {
    throw new Error(`${name}: ${label} must be a positive byte offset that is a multiple of 4, got ${ptr}`);
  }
  const end = ptr + ((rows * tokens - 1) * stride + width) * 4;
  if (end > heap.bytes) throw new Error(`${name}: ${label} extends past the end of memory (${end} > ${heap.bytes} bytes)`);
}

function roundUp(x: number, unit: number): number {
  return Math.ceil(x / unit) * unit;
}
