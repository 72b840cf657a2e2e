/** The parameters of a matrix product and their validation, shared by every backend. */

/** Parameters of one (optionally batched) matrix product C = op(A)·op(B) (+ C). */
export interface MatmulParams {
  a: number; b: number; c: number;       // byte offsets in the heap, f32, row-major contiguous
  m: number; n: number; k: number;       // C is m×n; op(A) is m×k; op(B) is k×n
  transA?: boolean;  // A stored as k×m (row-major) and used transposed
  transB?: boolean;  // B stored as n×k (row-major) and used transposed  (PyTorch Linear weight layout)
  accumulate?: boolean; // C += product instead of C = product
  batch?: number;    // number of independent products (default 1)
  strideA?: number; strideB?: number; strideC?: number; // elements between consecutive matrices of a batch (default: the matrix size; 0 allowed for broadcasting A or B)
}

/** The batch and strides of a product, defaults filled in, after checking. */
export interface MatmulLayout {
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

/** Checks sizes, strides and bounds (memoryBytes long), and that C overlaps neither input. */
export function checkMatmul(memoryBytes: number, p: MatmulParams): MatmulLayout {
  const { a, b, c, m, n, k } = p;
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x3fffffff) throw new Error(`matmul: ${name} must be a positive integer, got ${v}`);
  }
  const batch = p.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`matmul: batch must be a positive integer, got ${batch}`);
  const sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const strideA = stride("strideA", p.strideA, sizeA);
  const strideB = stride("strideB", p.strideB, sizeB);
  const strideC = stride("strideC", p.strideC, sizeC);
  if (batch > 1 && strideC < sizeC) {
    throw new Error(`matmul: strideC (${strideC}) is smaller than the m×n output (${sizeC}), so batch outputs would overlap`);
  }
  const endA = checkRange(memoryBytes, "a", a, batch, strideA, sizeA);
  const endB = checkRange(memoryBytes, "b", b, batch, strideB, sizeB);
  const endC = checkRange(memoryBytes, "c", c, batch, strideC, sizeC);
  // Inputs may be read while C is being written, so C must not share memory with them.
  if (c < endA && a < endC) throw new Error("matmul: c overlaps a (the product cannot be computed in place)");
  if (c < endB && b < endC) throw new Error("matmul: c overlaps b (the product cannot be computed in place)");
  return { batch, strideA, strideB, strideC };
}

function stride(name: string, value: number | undefined, size: number): number {
  if (value === undefined) return size;
  if (!Number.isInteger(value) || value < 0) throw new Error(`matmul: ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Checks that a batch of matrices lies inside the memory; returns the byte offset past its end. */
function checkRange(memoryBytes: number, name: string, ptr: number, batch: number, stride: number, size: number): number {
  if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
    throw new Error(`matmul: ${name} must be a non-negative byte offset that is a multiple of 4, got ${ptr}`);
  }
  const end = ptr + ((batch - 1) * stride + size) * 4;
  if (end > memoryBytes) throw new Error(`matmul: ${name} extends past the end of memory (${end} > ${memoryBytes} bytes)`);
  return end;
}
