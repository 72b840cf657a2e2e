import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startNodeEngine, type EngineParts } from "../src/engine/node.js";
import { random } from "./helpers/random.js";
import {
  attentionBackward, attentionForward, ropeBackward, ropeForward,
  type AttentionBackwardParams,
} from "../src/engine/attention-kernels.js";

let two: EngineParts;
let one: EngineParts;

before(async () => {
  two = await startNodeEngine({ threads: 2, memoryMB: 256 });
  one = await startNodeEngine({ threads: 1, memoryMB: 256 });
});

after(async () => {
  await two.pool.close();
  await one.pool.close();
});


// ---------------------------------------------------------------------------------------------
// Attention

/** Where a (B, T, H, dh) tensor lives inside a host buffer: element offset and row stride. */
interface View { buf: number; off: number; stride: number }

interface Case {
  name: string;
  B: number; Tq: number; Tk: number; H: number; dh: number;
  causal: boolean;
  /** Key mask rows: "keep" all ones, "some" a few zeros, "none" all zeros (fully padded). */
  mask?: Array<"keep" | "some" | "none">;
  /** q, k, v (and their grads) as column slices of one fused (B·T, 3·A) matrix (needs Tq = Tk). */
  fused?: boolean;
  /** Extra elements between tokens of separate q/k/v/o buffers. */
  pad?: number;
  /** Multiplier of q (sharper softmax). */
  qScale?: number;
  scale?: number;
}

/** Host-side data of a case: buffers and the views into them. */
interface Data {
  bufs: Float32Array[];
  q: View; k: View; v: View; o: View; dO: View; dq: View; dk: View; dv: View;
  mask: Float32Array | null;
}

function makeData(c: Case, seed: number): Data {
  const A = c.H * c.dh;
  const bufs: Float32Array[] = [];
  const add = (a: Float32Array): number => bufs.push(a) - 1;
  let q: View, k: View, v: View, dq: View, dk: View, dv: View;
  if (c.fused) {
    assert.equal(c.Tq, c.Tk);
    const x = add(random(c.B * c.Tq * 3 * A, seed));
    const g = add(random(c.B * c.Tq * 3 * A, seed + 1)); // gradients start non-zero: kernels accumulate
    q = { buf: x, off: 0, stride: 3 * A };
    k = { buf: x, off: A, stride: 3 * A };
    v = { buf: x, off: 2 * A, stride: 3 * A };
    dq = { buf: g, off: 0, stride: 3 * A };
    dk = { buf: g, off: A, stride: 3 * A };
    dv = { buf: g, off: 2 * A, stride: 3 * A };
  } else {
    const s = A + (c.pad ?? 0);
    const qs = random(c.B * c.Tq * s, seed);
    if (c.qScale) for (let i = 0; i < qs.length; i++) qs[i] *= c.qScale;
    q = { buf: add(qs), off: 0, stride: s };
    k = { buf: add(random(c.B * c.Tk * s, seed + 2)), off: 0, stride: s };
    v = { buf: add(random(c.B * c.Tk * s, seed + 3)), off: 0, stride: s };
    dq = { buf: add(random(c.B * c.Tq * s, seed + 4)), off: 0, stride: s };
    dk = { buf: add(random(c.B * c.Tk * s, seed + 5)), off: 0, stride: s };
    dv = { buf: add(random(c.B * c.Tk * s, seed + 6)), off: 0, stride: s };
  }
  const os = A + (c.pad ?? 0);
  const o = { buf: add(new Float32Array(c.B * c.Tq * os).fill(NaN)), off: 0, stride: os };
  const dO = { buf: add(random(c.B * c.Tq * os, seed + 7)), off: 0, stride: os };
  let mask: Float32Array | null = null;
  if (c.mask) {
    mask = new Float32Array(c.B * c.Tk);
    for (let b = 0; b < c.B; b++) {
      const kind = c.mask[b % c.mask.length];
      for (let j = 0; j < c.Tk; j++) mask[b * c.Tk + j] = kind === "keep" ? 1 : kind === "none" ? 0 : j % 3 === 1 || j === c.Tk - 1 ? 0 : 1;
    }
  }
  return { bufs, q, k, v, o, dO, dq, dk, dv, mask };
}

const at = (v: View, T: number, H: number, dh: number, b: number, t: number, h: number, i: number): number =>
  v.off + (b * T + t) * v.stride + h * dh + i;

/** Float64 attention over (B, T, H, dh) accessors; returns o (B, Tq, H, dh) and lse (B, H, Tq). */
function refForward(c: Case, q: (b: number, t: number, h: number, i: number) => number,
  k: (b: number, j: number, h: number, i: number) => number, v: (b: number, j: number, h: number, i: number) => number,
  mask: Float32Array | null): { o: Float64Array; lse: Float64Array; p: Float64Array } {
  const { B, Tq, Tk, H, dh } = c;
  const scale = c.scale ?? 1 / Math.sqrt(dh);
  const o = new Float64Array(B * Tq * H * dh);
  const lse = new Float64Array(B * H * Tq);
  const p = new Float64Array(B * H * Tq * Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < Tq; t++) {
        const s = new Float64Array(Tk).fill(-Infinity);
        let m = -Infinity;
        for (let j = 0; j < Tk; j++) {
          if (c.causal && j > t + Tk - Tq) continue;
          if (mask && mask[b * Tk + j] === 0) continue;
          let d = 0;
          for (let i = 0; i < dh; i++) d += q(b, t, h, i) * k(b, j, h, i);
          s[j] = scale * d;
          m = Math.max(m, s[j]);
        }
        const row = (b * H + h) * Tq + t;
        if (m === -Infinity) {
          lse[row] = Infinity;
          continue;
        }
        let z = 0;
        for (let j = 0; j < Tk; j++) z += Math.exp(s[j] - m);
        lse[row] = m + Math.log(z);
        for (let j = 0; j < Tk; j++) {
          const pj = Math.exp(s[j] - m) / z;
          p[row * Tk + j] = pj;
          if (pj === 0) continue;
          for (let i = 0; i < dh; i++) o[((b * Tq + t) * H + h) * dh + i] += pj * v(b, j, h, i);
        }
      }
    }
  }
  return { o, lse, p };
}

/** Float64 gradients (B, T, H, dh) of sum(dO ⊙ o). */
function refBackward(c: Case, q: (b: number, t: number, h: number, i: number) => number,
  k: (b: number, j: number, h: number, i: number) => number, v: (b: number, j: number, h: number, i: number) => number,
  dO: (b: number, t: number, h: number, i: number) => number, mask: Float32Array | null) {
  const { B, Tq, Tk, H, dh } = c;
  const scale = c.scale ?? 1 / Math.sqrt(dh);
  const { o, p } = refForward(c, q, k, v, mask);
  const dq = new Float64Array(B * Tq * H * dh);
  const dk = new Float64Array(B * Tk * H * dh);
  const dv = new Float64Array(B * Tk * H * dh);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < Tq; t++) {
        const row = (b * H + h) * Tq + t;
        const oi = ((b * Tq + t) * H + h) * dh;
        let D = 0;
        for (let i = 0; i < dh; i++) D += dO(b, t, h, i) * o[oi + i];
        for (let j = 0; j < Tk; j++) {
          const pj = p[row * Tk + j];
          if (pj === 0) continue;
          let dp = 0;
          for (let i = 0; i < dh; i++) dp += dO(b, t, h, i) * v(b, j, h, i);
          const ds = pj * (dp - D);
          const ki = ((b * Tk + j) * H + h) * dh;
          for (let i = 0; i < dh; i++) {
            dq[oi + i] += scale * ds * k(b, j, h, i);
            dk[ki + i] += scale * ds * q(b, t, h, i);
            dv[ki + i] += pj * dO(b, t, h, i);
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}

interface Outputs {
  o: Float32Array; lse: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array;
  bufsAfter: Float32Array[];
}

/** Copies the case into an engine's heap, runs forward and backward, and reads everything back. */
function runKernels(e: EngineParts, c: Case, d: Data): Outputs {
  const { heap, pool } = e;
  heap.resetArena();
  const ptrs = d.bufs.map((buf) => {
    const ptr = heap.allocArena(buf.length * 4);
    heap.f32.set(buf, ptr / 4);
    return ptr;
  });
  const lse = heap.allocArena(c.B * c.H * c.Tq * 4);
  heap.f32.fill(NaN, lse / 4, lse / 4 + c.B * c.H * c.Tq);
  let mask = 0;
  if (d.mask) {
    mask = heap.allocArena(d.mask.length * 4);
    heap.f32.set(d.mask, mask / 4);
  }
  const ptr = (v: View): number => ptrs[v.buf] + v.off * 4;
  const p: AttentionBackwardParams = {
    q: ptr(d.q), k: ptr(d.k), v: ptr(d.v), o: ptr(d.o), lse, mask,
    dO: ptr(d.dO), dq: ptr(d.dq), dk: ptr(d.dk), dv: ptr(d.dv),
    B: c.B, Tq: c.Tq, Tk: c.Tk, H: c.H, dh: c.dh,
    qStride: d.q.stride, kStride: d.k.stride, vStride: d.v.stride, oStride: d.o.stride,
    causal: c.causal, scale: c.scale,
  };
  attentionForward(pool, heap, p);
  const lseOut = heap.f32.slice(lse / 4, lse / 4 + c.B * c.H * c.Tq);
  attentionBackward(pool, heap, p);
  const after = d.bufs.map((buf, i) => heap.f32.slice(ptrs[i] / 4, ptrs[i] / 4 + buf.length));
  heap.resetArena();
  return { o: after[d.o.buf], lse: lseOut, dq: after[d.dq.buf], dk: after[d.dk.buf], dv: after[d.dv.buf], bufsAfter: after };
}

function assertClose(label: string, got: (idx: number) => number, ref: Float64Array, base: (idx: number) => number, tol: number): void {
  let worst = 0, at = -1;
  let maxRef = 1;
  for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got(i) - base(i) - ref[i]);
    if (!(err <= worst)) { worst = err; at = i; }
  }
  assert.ok(worst <= tol * maxRef, `${label}: max error ${worst} at ${at} (got ${got(at) - base(at)}, want ${ref[at]}), tolerance ${tol * maxRef}`);
}

/** Runs a case on the 2-thread engine against the float64 reference. */
function checkCase(c: Case, seed = 11): Outputs {
  const d = makeData(c, seed);
  const out = runKernels(two, c, d);
  const { B, Tq, Tk, H, dh } = c;
  const acc = (v: View, T: number) => (b: number, t: number, h: number, i: number) => d.bufs[v.buf][at(v, T, H, dh, b, t, h, i)];
  const q = acc(d.q, Tq), k = acc(d.k, Tk), v = acc(d.v, Tk), dO = acc(d.dO, Tq);
  const ref = refForward(c, q, k, v, d.mask);
  // Dense (B, T, H, dh) index -> the view's element.
  const idx = (view: View, T: number) => (n: number): number => {
    const i = n % dh, h = Math.floor(n / dh) % H, bt = Math.floor(n / (dh * H));
    return view.off + bt * view.stride + h * dh + i;
  };
  const oIdx = idx(d.o, Tq);
  assertClose(`${c.name} o`, (n) => out.o[oIdx(n)], ref.o, () => 0, 4e-6);
  for (let r = 0; r < ref.lse.length; r++) {
    if (ref.lse[r] === Infinity) assert.equal(out.lse[r], Infinity, `${c.name} lse[${r}] of an empty row`);
    else assert.ok(Math.abs(out.lse[r] - ref.lse[r]) <= 2e-5 * Math.max(1, Math.abs(ref.lse[r])), `${c.name} lse[${r}]: ${out.lse[r]} vs ${ref.lse[r]}`);
  }
  const g = refBackward(c, q, k, v, dO, d.mask);
  const init = d.bufs;
  const dqI = idx(d.dq, Tq), dkI = idx(d.dk, Tk), dvI = idx(d.dv, Tk);
  assertClose(`${c.name} dq`, (n) => out.dq[dqI(n)], g.dq, (n) => init[d.dq.buf][dqI(n)], 1.5e-5);
  assertClose(`${c.name} dk`, (n) => out.dk[dkI(n)], g.dk, (n) => init[d.dk.buf][dkI(n)], 1.5e-5);
  assertClose(`${c.name} dv`, (n) => out.dv[dvI(n)], g.dv, (n) => init[d.dv.buf][dvI(n)], 1.5e-5);
  // Nothing outside the outputs and gradients changed (e.g. the other columns of a fused matrix).
  for (const [i, buf] of init.entries()) {
    if (i === d.o.buf || i === d.dq.buf || i === d.dk.buf || i === d.dv.buf) continue;
    assert.deepEqual(out.bufsAfter[i], buf, `${c.name}: input buffer ${i} was modified`);
  }
  return out;
}

const cases: Case[] = [
  { name: "causal self-attention dh=16", B: 2, Tq: 13, Tk: 13, H: 2, dh: 16, causal: true },
  { name: "causal Tq<Tk (kv cache) dh=8", B: 2, Tq: 5, Tk: 19, H: 3, dh: 8, causal: true },
  { name: "causal Tq>Tk (empty leading rows) dh=12", B: 1, Tq: 9, Tk: 6, H: 2, dh: 12, causal: true },
  { name: "bidirectional with key mask dh=48", B: 3, Tq: 11, Tk: 11, H: 2, dh: 48, causal: false, mask: ["keep", "some", "none"] },
  { name: "cross-attention dh=64 padded strides", B: 2, Tq: 7, Tk: 23, H: 2, dh: 64, causal: false, pad: 4, qScale: 3 },
  { name: "fused qkv causal + mask dh=64 T=70", B: 2, Tq: 70, Tk: 70, H: 2, dh: 64, causal: true, fused: true, mask: ["some", "keep"] },
  { name: "fused qkv bidirectional dh=8", B: 2, Tq: 9, Tk: 9, H: 4, dh: 8, causal: false, fused: true },
  { name: "causal long T=133 dh=16", B: 1, Tq: 133, Tk: 133, H: 1, dh: 16, causal: true, qScale: 4 },
];

for (const c of cases) {
  test(`attention: ${c.name}`, () => {
    checkCase(c);
  });
}

test("attention: empty rows give o = 0, lse = +inf and no gradient", () => {
  const c: Case = { name: "masked batch row", B: 2, Tq: 4, Tk: 8, H: 1, dh: 4, causal: false, mask: ["keep", "none"] };
  const d = makeData(c, 5);
  const out = runKernels(two, c, d);
  for (let t = 0; t < 4; t++) {
    assert.equal(out.lse[4 + t], Infinity);
    for (let i = 0; i < 4; i++) assert.equal(out.o[at(d.o, 4, 1, 4, 1, t, 0, i)], 0);
  }
  // Batch row 1: gradients unchanged (exactly the initial values).
  for (let t = 0; t < 4; t++) for (let i = 0; i < 4; i++) assert.equal(out.dq[at(d.dq, 4, 1, 4, 1, t, 0, i)], d.bufs[d.dq.buf][at(d.dq, 4, 1, 4, 1, t, 0, i)]);
  for (let j = 0; j < 8; j++) {
    for (let i = 0; i < 4; i++) {
      assert.equal(out.dk[at(d.dk, 8, 1, 4, 1, j, 0, i)], d.bufs[d.dk.buf][at(d.dk, 8, 1, 4, 1, j, 0, i)]);
      assert.equal(out.dv[at(d.dv, 8, 1, 4, 1, j, 0, i)], d.bufs[d.dv.buf][at(d.dv, 8, 1, 4, 1, j, 0, i)]);
    }
  }
});

test("attention: gradients match central finite differences of the float64 reference", () => {
  const c: Case = { name: "fd", B: 2, Tq: 3, Tk: 5, H: 2, dh: 4, causal: true, mask: ["keep", "some"], scale: 0.7 };
  const d = makeData(c, 23);
  const out = runKernels(two, c, d);
  const { B, Tq, Tk, H, dh } = c;
  const w = d.bufs[d.dO.buf]; // loss = sum(w ⊙ o) over the o layout
  const vals = {
    q: Float64Array.from(d.bufs[d.q.buf]), k: Float64Array.from(d.bufs[d.k.buf]), v: Float64Array.from(d.bufs[d.v.buf]),
  };
  const loss = (): number => {
    const r = refForward(c,
      (b, t, h, i) => vals.q[at(d.q, Tq, H, dh, b, t, h, i)],
      (b, j, h, i) => vals.k[at(d.k, Tk, H, dh, b, j, h, i)],
      (b, j, h, i) => vals.v[at(d.v, Tk, H, dh, b, j, h, i)], d.mask);
    let L = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t < Tq; t++) for (let h = 0; h < H; h++) for (let i = 0; i < dh; i++) {
      L += w[at(d.dO, Tq, H, dh, b, t, h, i)] * r.o[((b * Tq + t) * H + h) * dh + i];
    }
    return L;
  };
  const eps = 1e-5;
  const grads = { q: [out.dq, d.dq, Tq], k: [out.dk, d.dk, Tk], v: [out.dv, d.dv, Tk] } as const;
  for (const name of ["q", "k", "v"] as const) {
    const x = vals[name];
    const view = name === "q" ? d.q : name === "k" ? d.k : d.v;
    const [got, gview, T] = grads[name];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let i = 0; i < dh; i++) {
      const n = at(view, T, H, dh, b, t, h, i);
      const x0 = x[n];
      x[n] = x0 + eps;
      const lp = loss();
      x[n] = x0 - eps;
      const lm = loss();
      x[n] = x0;
      const fd = (lp - lm) / (2 * eps);
      const gn = at(gview, T, H, dh, b, t, h, i);
      const g = got[gn] - d.bufs[gview.buf][gn];
      assert.ok(Math.abs(g - fd) <= 2e-5 * Math.max(1, Math.abs(fd)), `d${name}[${b},${t},${h},${i}]: kernel ${g}, finite difference ${fd}`);
    }
  }
});

test("attention: 1 thread and 2 threads are bit-identical", () => {
  for (const c of [cases[5], cases[3], cases[1]]) {
    const d = makeData(c, 77);
    const a = runKernels(one, c, d);
    const b = runKernels(two, c, d);
    assert.deepEqual(new Uint32Array(a.lse.buffer), new Uint32Array(b.lse.buffer), `${c.name}: lse`);
    for (let i = 0; i < a.bufsAfter.length; i++) {
      assert.deepEqual(new Uint32Array(a.bufsAfter[i].buffer), new Uint32Array(b.bufsAfter[i].buffer), `${c.name}: buffer ${i}`);
    }
  }
});

test("attention: invalid arguments are rejected with clear errors", () => {
  const { pool, heap } = two;
  heap.resetArena();
  const buf = heap.allocArena(1 << 16);
  const base = { q: buf, k: buf, v: buf, o: buf, lse: buf, B: 1, Tq: 4, Tk: 4, H: 1, dh: 8, causal: true };
  assert.throws(() => attentionForward(pool, heap, { ...base, dh: 6 }), /dh must be a multiple of 4/);
  assert.throws(() => attentionForward(pool, heap, { ...base, Tq: 0 }), /Tq must be a positive integer/);
  assert.throws(() => attentionForward(pool, heap, { ...base, qStride: 4 }), /qStride must be an integer >= H\*dh/);
  assert.throws(() => attentionForward(pool, heap, { ...base, q: buf + 2 }), /q must be a positive byte offset/);
  assert.throws(() => attentionForward(pool, heap, { ...base, k: heap.bytes - 16 }), /k extends past the end of memory/);
  assert.throws(() => attentionBackward(pool, heap, { ...base, dO: buf, dq: buf, dk: buf, dv: heap.bytes }), /dv/);
  assert.throws(() => ropeForward(pool, { x: buf, out: buf, B: 1, T: 2, H: 1, dh: 5 }), /dh must be even/);
  assert.throws(() => ropeBackward(pool, { dy: buf, dx: buf, B: 1, T: 2, H: 1, dh: 4 }), /must not alias/);
  heap.resetArena();
});

// ---------------------------------------------------------------------------------------------
// RoPE

interface RopeCase { B: number; T: number; H: number; dh: number; stride: number; pos0: number; base: number }

function ropeRef(c: RopeCase, x: Float32Array, transpose: boolean): Float64Array {
  const out = Float64Array.from(x);
  const half = c.dh / 2;
  for (let b = 0; b < c.B; b++) for (let t = 0; t < c.T; t++) for (let h = 0; h < c.H; h++) {
    const o = (b * c.T + t) * c.stride + h * c.dh;
    for (let i = 0; i < half; i++) {
      const theta = (c.pos0 + t) * Math.pow(c.base, (-2 * i) / c.dh);
      const cs = Math.cos(theta), sn = transpose ? -Math.sin(theta) : Math.sin(theta);
      const x1 = x[o + i], x2 = x[o + i + half];
      out[o + i] = x1 * cs - x2 * sn;
      out[o + i + half] = x1 * sn + x2 * cs;
    }
  }
  return out;
}

/** Runs rope forward (out of place and in place) and backward (accumulating into dx0). */
function runRope(e: EngineParts, c: RopeCase, x: Float32Array, y: Float32Array, dx0: Float32Array) {
  const { heap, pool } = e;
  heap.resetArena();
  const n = x.length;
  const px = heap.allocArena(n * 4), pout = heap.allocArena(n * 4), py = heap.allocArena(n * 4), pdx = heap.allocArena(n * 4);
  heap.f32.set(x, px / 4);
  heap.f32.set(x, pout / 4); // gaps between rows must stay untouched
  heap.f32.set(y, py / 4);
  heap.f32.set(dx0, pdx / 4);
  const shape = { B: c.B, T: c.T, H: c.H, dh: c.dh, stride: c.stride, pos0: c.pos0, base: c.base };
  ropeForward(pool, { x: px, out: pout, ...shape });
  const out = heap.f32.slice(pout / 4, pout / 4 + n);
  ropeForward(pool, { x: px, out: px, ...shape });
  const inPlace = heap.f32.slice(px / 4, px / 4 + n);
  ropeBackward(pool, { dy: py, dx: pdx, ...shape });
  const dx = heap.f32.slice(pdx / 4, pdx / 4 + n);
  heap.resetArena();
  return { out, inPlace, dx };
}

const ropeCases: RopeCase[] = [
  { B: 2, T: 5, H: 3, dh: 8, stride: 24, pos0: 7, base: 10000 },
  { B: 1, T: 9, H: 2, dh: 16, stride: 40, pos0: 100, base: 500 },
  { B: 3, T: 17, H: 2, dh: 64, stride: 3 * 128, pos0: 3, base: 10000 },
  { B: 2, T: 4, H: 2, dh: 6, stride: 12, pos0: 1, base: 10000 },
];

for (const c of ropeCases) {
  test(`rope: dh=${c.dh} pos0=${c.pos0} stride=${c.stride} forward, in place, transpose`, () => {
    const n = c.B * c.T * c.stride;
    const x = random(n, 3 + c.dh), y = random(n, 4 + c.dh), dx0 = random(n, 5 + c.dh);
    const r = runRope(two, c, x, y, dx0);
    const ref = ropeRef(c, x, false);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(r.out[i] - ref[i]) <= 1e-6, `out[${i}]: ${r.out[i]} vs ${ref[i]}`);
    assert.deepEqual(r.inPlace, r.out, "in-place result differs");
    const refT = ropeRef(c, y, true);
    for (let i = 0; i < n; i++) {
      if (i % c.stride >= c.H * c.dh) continue; // gaps are checked below
      assert.ok(Math.abs(r.dx[i] - dx0[i] - refT[i]) <= 2e-6, `dx[${i}]: ${r.dx[i] - dx0[i]} vs ${refT[i]}`);
    }
    // <rope(x), y> = <x, rope^T(y)> over the token rows (gaps hold copies of x in out, zeroed here).
    const half = c.dh / 2;
    let lhs = 0, rhs = 0;
    for (let b = 0; b < c.B; b++) for (let t = 0; t < c.T; t++) for (let h = 0; h < c.H; h++) for (let i = 0; i < c.dh; i++) {
      const o = (b * c.T + t) * c.stride + h * c.dh + i;
      lhs += r.out[o] * y[o];
      rhs += x[o] * (r.dx[o] - dx0[o]);
    }
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `adjoint: ${lhs} vs ${rhs} (half=${half})`);
    // Elements between the token rows (stride > H*dh) are untouched.
    for (let row = 0; row < c.B * c.T; row++) for (let e = c.H * c.dh; e < c.stride; e++) {
      const o = row * c.stride + e;
      assert.equal(r.out[o], x[o]);
      assert.equal(r.dx[o], dx0[o]);
    }
  });
}

test("rope: 1 thread and 2 threads are bit-identical", () => {
  const c = ropeCases[2];
  const n = c.B * c.T * c.stride;
  const x = random(n, 9), y = random(n, 10), dx0 = random(n, 11);
  const a = runRope(one, c, x, y, dx0);
  const b = runRope(two, c, x, y, dx0);
  assert.deepEqual(a, b);
});
