// Elementwise kernels over f32 arrays, chunked by CHUNK_ELEMS elements.

/** Elements per chunk for elementwise kernels (the JS side splits work the same way). */
const CHUNK = 65536;

function range(n: i32, chunk: i32): i64 {
  const start = chunk * CHUNK;
  const end = min(n, start + CHUNK);
  return (i64(start) << 32) | i64(end);
}

/** out[i] = a[i] + b[i] */
export function add_f32(a: usize, b: usize, out: usize, n: i32, chunk: i32, tid: i32): void {
  const r = range(n, chunk);
  let i = i32(r >> 32);
  const end = i32(r & 0xffffffff);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
