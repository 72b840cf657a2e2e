/** Float64 reference implementations of the ops, written for clarity, not speed. */

/** op(A)·op(B) for one matrix pair. */
export function refMatmul(a: Float64Array, b: Float64Array, m: number, n: number, k: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** RMSNorm over rows of n, with an optional gain. */
export function refRmsNorm(x: Float64Array, n: number, gain: Float64Array | null, eps = 1e-5): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[r * n + j] ** 2;
    const s = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) y[r * n + j] = x[r * n + j] * s * (gain ? gain[j] : 1);
  }
  return y;
}

/** L2 normalisation over rows of n. */
export function refL2(x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[r * n + j] ** 2;
    const len = Math.max(Math.sqrt(ss), 1e-12);
    for (let j = 0; j < n; j++) y[r * n + j] = x[r * n + j] / len;
  }
  return y;
}

/** GELU, tanh approximation. */
export function refGelu(x: Float64Array): Float64Array {
  const c = Math.sqrt(2 / Math.PI);
  return x.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))));
}

/** Mean cross-entropy over rows whose target is not -1. */
export function refCrossEntropy(logits: Float64Array, targets: Int32Array, vocab: number): number {
  let total = 0;
  let count = 0;
  targets.forEach((t, r) => {
    if (t < 0) return;
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - row[t];
    count++;
  });
  return count ? total / count : 0;
}

/** k(1 − cos) per row, averaged with the mask's weights. */
export function refCosineLoss(p: Float64Array, t: Float64Array, n: number, mask: Float64Array | null, k: number): number {
  let total = 0;
  let weight = 0;
  for (let r = 0; r < p.length / n; r++) {
    let d = 0, pp = 0, tt = 0;
    for (let j = 0; j < n; j++) {
      d += p[r * n + j] * t[r * n + j];
      pp += p[r * n + j] ** 2;
      tt += t[r * n + j] ** 2;
    }
    const w = mask ? mask[r] : 1;
    total += w * k * (1 - d / (Math.max(Math.sqrt(pp), 1e-8) * Math.max(Math.sqrt(tt), 1e-8)));
    weight += w;
  }
  return weight ? total / weight : 0;
}

/** RoPE (rotate-half pairs) of a (B, T, H, dh) array at positions pos0 + t. */
export function refRope(x: Float64Array, B: number, T: number, H: number, dh: number, pos0: number, base: number): Float64Array {
  const y = new Float64Array(x.length);
  const half = dh / 2;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
    const o = ((b * T + t) * H + h) * dh;
    for (let i = 0; i < half; i++) {
      const theta = (pos0 + t) * Math.pow(base, (-2 * i) / dh);
      const x1 = x[o + i], x2 = x[o + i + half];
      y[o + i] = x1 * Math.cos(theta) - x2 * Math.sin(theta);
      y[o + i + half] = x1 * Math.sin(theta) + x2 * Math.cos(theta);
    }
  }
  return y;
}

/** Options of the reference attention. */
export interface RefAttentionOptions {
  B: number; Tq: number; Tk: number; H: number; dh: number;
  causal: boolean;
  mask?: Float64Array | null;
  rope?: { base: number; qPos0: number; kPos0: number } | null;
  scale?: number;
}

/** Multi-head attention on (B, T, H·dh) arrays, RoPE on q and k first when asked. */
export function refAttention(q: Float64Array, k: Float64Array, v: Float64Array, o: RefAttentionOptions): Float64Array {
  const { B, Tq, Tk, H, dh } = o;
  if (o.rope) {
    q = refRope(q, B, Tq, H, dh, o.rope.qPos0, o.rope.base);
    k = refRope(k, B, Tk, H, dh, o.rope.kPos0, o.rope.base);
  }
  const out = new Float64Array(B * Tq * H * dh);
  const scale = o.scale ?? 1 / Math.sqrt(dh);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < Tq; t++) {
    const scores: number[] = [];
    const keys: number[] = [];
    for (let j = 0; j < Tk; j++) {
      if (o.causal && j > t + Tk - Tq) continue;
      if (o.mask && o.mask[b * Tk + j] === 0) continue;
      let s = 0;
      for (let i = 0; i < dh; i++) s += q[((b * Tq + t) * H + h) * dh + i] * k[((b * Tk + j) * H + h) * dh + i];
      scores.push(s * scale);
      keys.push(j);
    }
    if (keys.length === 0) continue;
    const m = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - m));
    const z = w.reduce((a, c) => a + c, 0);
    keys.forEach((j, idx) => {
      for (let i = 0; i < dh; i++) out[((b * Tq + t) * H + h) * dh + i] += (w[idx] / z) * v[((b * Tk + j) * H + h) * dh + i];
    });
  }
  return out;
}
