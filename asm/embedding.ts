// Embedding gather and its scatter-add backward.

/** out[i] = W[ids[i]] for i < count rows of width D; chunks cover `per` rows. */
export function embed_forward(W: usize, ids: usize, out: usize, count: i32, D: i32, per: i32, chunk: i32, tid: i32): void {
  const end = min(count, chunk * per + per);
  for (let i = chunk * per; i < end; i++) {
    const src = W + (<usize>(load<i32>(ids + (<usize>i << 2)) * D) << 2);
    const dst = out + (<usize>(i * D) << 2);
    let j = 0;
    for (; j + 4 <= D; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
    for (; j < D; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
  }
}

/**
 * dW[ids[i]] += dy[i]. A chunk owns the vocabulary rows [chunk*per, (chunk+1)*per) and scans
 * all ids in order, so repeated ids never race and the summation order is fixed.
 */
export function embed_backward(ids: usize, dy: usize, dW: usize, count: i32, D: i32, V: i32, per: i32, chunk: i32, tid: i32): void {
  const v0 = chunk * per, v1 = min(V, v0 + per);
  for (let i = 0; i < count; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    if (id < v0 || id >= v1) continue;
    const src = dy + (<usize>(i * D) << 2);
    const dst = dW + (<usize>(id * D) << 2);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; j < D; j++) store<f32>(dst + (<usize>j << 2), load<f32>(dst + (<usize>j << 2)) + load<f32>(src + (<usize>j << 2)));
  }
}
