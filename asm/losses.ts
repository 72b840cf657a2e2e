// Fused losses: softmax cross-entropy with ignored targets, and the scaled cosine loss.
// Chunks cover `per` rows.
import { exp4, hsum } from "./math";

/** Per row: lse = log sum exp(logits); loss = lse - logits[target] (0 where target < 0). */
export function ce_forward(
  logits: usize, targets: usize, loss: usize, lse: usize, rows: i32, V: i32, per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const row = logits + (<usize>(r * V) << 2);
    let m4 = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= V; j += 4) m4 = f32x4.max(m4, v128.load(row + (<usize>j << 2)));
    let m = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
    for (; j < V; j++) m = max(m, load<f32>(row + (<usize>j << 2)));
    const vm = f32x4.splat(m);
    let s4 = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= V; j += 4) s4 = f32x4.add(s4, exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), vm)));
    let s = hsum(s4);
    for (; j < V; j++) s += f32x4.extract_lane(exp4(f32x4.splat(load<f32>(row + (<usize>j << 2)) - m)), 0);
    const l = m + Mathf.log(s);
    store<f32>(lse + (<usize>r << 2), l);
    const t = load<i32>(targets + (<usize>r << 2));
    store<f32>(loss + (<usize>r << 2), t >= 0 ? l - load<f32>(row + (<usize>t << 2)) : f32(0));
  }
}

/** dlogits (+)= scale * (softmax - onehot(target)) for rows with target >= 0; other rows get 0. */
export function ce_backward(
  logits: usize, targets: usize, lse: usize, dlogits: usize, rows: i32, V: i32, scale: f32, acc: i32,
  per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const off = <usize>(r * V) << 2;
    const row = logits + off, drow = dlogits + off;
    const t = load<i32>(targets + (<usize>r << 2));
    const sc = t >= 0 ? scale : f32(0);
    const vl = f32x4.splat(load<f32>(lse + (<usize>r << 2))), vs = f32x4.splat(sc);
    let j = 0;
    for (; j + 4 <= V; j += 4) {
      const o = <usize>j << 2;
      let d = f32x4.mul(vs, exp4(f32x4.sub(v128.load(row + o), vl)));
      if (acc) d = f32x4.add(d, v128.load(drow + o));
      v128.store(drow + o, d);
    }
    for (; j < V; j++) {
      const o = <usize>j << 2;
      let d = sc * f32x4.extract_lane(exp4(f32x4.splat(load<f32>(row + o) - f32x4.extract_lane(vl, 0))), 0);
      if (acc) d += load<f32>(drow + o);
      store<f32>(drow + o, d);
    }
    if (t >= 0) store<f32>(drow + (<usize>t << 2), load<f32>(drow + (<usize>t << 2)) - sc);
  }
}

/**
 * Per row: loss = w * k * (1 - cos(p, t)), w = mask[r] (1 when mask = 0). stats keeps
 * (p.t, |p|, |t|) per row for the backward.
 */
export function cos_forward(
  p: usize, t: usize, mask: usize, loss: usize, stats: usize, rows: i32, n: i32, k: f32, eps: f32,
  per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const off = <usize>(r * n) << 2;
    let d4 = f32x4.splat(0), p4 = f32x4.splat(0), t4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const a = v128.load(p + off + (<usize>j << 2)), b = v128.load(t + off + (<usize>j << 2));
      d4 = f32x4.add(d4, f32x4.mul(a, b));
      p4 = f32x4.add(p4, f32x4.mul(a, a));
      t4 = f32x4.add(t4, f32x4.mul(b, b));
    }
    let dt = hsum(d4), pp = hsum(p4), tt = hsum(t4);
    for (; j < n; j++) {
      const a = load<f32>(p + off + (<usize>j << 2)), b = load<f32>(t + off + (<usize>j << 2));
      dt += a * b; pp += a * a; tt += b * b;
    }
    const np = max(Mathf.sqrt(pp), eps), nt = max(Mathf.sqrt(tt), eps);
    const s = stats + (<usize>(r * 3) << 2);
    store<f32>(s, dt);
    store<f32>(s + 4, np);
    store<f32>(s + 8, nt);
    const w = mask ? load<f32>(mask + (<usize>r << 2)) : f32(1);
    store<f32>(loss + (<usize>r << 2), w * k * (f32(1) - dt / (np * nt)));
  }
}

/**
 * d(loss)/dp (+)= -scale * w * (t / (|p||t|) - cos * p / |p|^2), and the same with p and t
 * swapped into dt when dt != 0. scale folds in k, the upstream gradient and the mean.
 */
export function cos_backward(
  p: usize, t: usize, mask: usize, stats: usize, dp: usize, dt: usize, rows: i32, n: i32, scale: f32, acc: i32,
  per: i32, chunk: i32, tid: i32,
): void {
  const end = min(rows, chunk * per + per);
  for (let r = chunk * per; r < end; r++) {
    const off = <usize>(r * n) << 2;
    const s = stats + (<usize>(r * 3) << 2);
    const dot = load<f32>(s), np = load<f32>(s + 4), nt = load<f32>(s + 8);
    const w = mask ? load<f32>(mask + (<usize>r << 2)) : f32(1);
    const c = -scale * w;
    const cosv = dot / (np * nt);
    gradTowards(p + off, t + off, dp + off, n, c / (np * nt), -c * cosv / (np * np), acc);
    if (dt) gradTowards(t + off, p + off, dt + off, n, c / (np * nt), -c * cosv / (nt * nt), acc);
  }
}

/** out (+)= a * other + b * self, over n elements. */
// @ts-ignore: decorator
@inline function gradTowards(self: usize, other: usize, out: usize, n: i32, a: f32, b: f32, acc: i32): void {
  const va = f32x4.splat(a), vb = f32x4.splat(b);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    let d = f32x4.add(f32x4.mul(va, v128.load(other + o)), f32x4.mul(vb, v128.load(self + o)));
    if (acc) d = f32x4.add(d, v128.load(out + o));
    v128.store(out + o, d);
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    let d = a * load<f32>(other + o) + b * load<f32>(self + o);
    if (acc) d += load<f32>(out + o);
    store<f32>(out + o, d);
  }
}
