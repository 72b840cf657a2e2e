/** Moving blocks along the sequence and feature axes: concat, slice, column split. */
import type { Tensor } from "../tensor.js";
import { assertRank, output } from "./common.js";

/** Geometry of one strided block copy (see the copy_rows kernel). */
interface CopyPlan {
  nBlocks: number;
  rows: number;
  cols: number;
  srcBlock: number;
  srcRow: number;
  dstBlock: number;
  dstRow: number;
}

/** Copies (acc = 0) or adds (acc = 1) a strided block from src to dst (byte offsets). */
function copyBlock(x: Tensor, src: number, dst: number, plan: CopyPlan, acc: 0 | 1): void {
  const e = x.engine;
  const total = plan.nBlocks * plan.rows;
  e.runRows("copy_rows", [src, dst, plan.nBlocks, plan.rows, plan.cols, plan.srcBlock, plan.srcRow, plan.dstBlock, plan.dstRow, acc], total, plan.cols * 4);
}

/** The reverse plan: from the destination layout back to the source layout. */
function reversed(plan: CopyPlan): CopyPlan {
  return { ...plan, srcBlock: plan.dstBlock, srcRow: plan.dstRow, dstBlock: plan.srcBlock, dstRow: plan.srcRow };
}

/** Concatenates (B, T_i, D) tensors along the sequence axis. */
export function concatSeq(parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new Error("concatSeq: nothing to concatenate");
  for (const p of parts) assertRank("concatSeq", p, [3]);
  const [batch, , dim] = parts[0].shape;
  for (const p of parts) {
    if (p.shape[0] !== batch || p.shape[2] !== dim) throw new Error(`concatSeq: ${p.describe()} does not match ${parts[0].describe()}`);
  }
  const total = parts.reduce((s, p) => s + p.shape[1], 0);
  const e = parts[0].engine;
  const y = output(e, [batch, total, dim], parts);
  let t0 = 0;
  const placed = parts.map((p) => {
    const len = p.shape[1];
    const plan = { nBlocks: batch, rows: len, cols: dim, srcBlock: len * dim, srcRow: dim, dstBlock: total * dim, dstRow: dim };
    const offset = t0 * dim;
    copyBlock(p, p.ptr, y.ptr + offset * 4, plan, 0);
    t0 += len;
    return { p, plan, offset };
  });
  // One backward step for all parts: it is the only reader of y's gradient.
  e.record(parts, () => {
    const dy = e.gradOf(y).ptr;
    for (const { p, plan, offset } of placed) {
      if (!p.requiresGrad) continue;
      const g = e.gradFor(p);
      copyBlock(p, dy + offset * 4, g.ptr, reversed(plan), g.acc);
    }
  });
  return y;
}

/** Positions [start, start + length) of a (B, T, D) tensor along the sequence axis. */
export function sliceSeq(x: Tensor, start: number, length: number): Tensor {
  assertRank("sliceSeq", x, [3]);
  const [batch, len, dim] = x.shape;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > len) {
    throw new Error(`sliceSeq: [${start}, ${start + length}) is outside the sequence of ${x.describe()}`);
  }
  return sliceBlock(x, { nBlocks: batch, rows: length, cols: dim, srcBlock: len * dim, srcRow: dim, dstBlock: length * dim, dstRow: dim }, start * dim, [batch, length, dim]);
}

/** Splits the last dimension into consecutive pieces of the given widths. */
export function splitLast(x: Tensor, widths: number[]): Tensor[] {
  const width = x.lastDim;
  if (widths.reduce((a, b) => a + b, 0) !== width) throw new Error(`splitLast: widths [${widths}] do not sum to ${width} of ${x.describe()}`);
  const rows = x.size / width;
  let col = 0;
  return widths.map((w) => {
    const piece = sliceBlock(x, { nBlocks: 1, rows, cols: w, srcBlock: 0, srcRow: width, dstBlock: 0, dstRow: w }, col, [...x.shape.slice(0, -1), w]);
    col += w;
    return piece;
  });
}

/** Copies a strided block of x starting at element `offset` into a new tensor of `shape`. */
function sliceBlock(x: Tensor, plan: CopyPlan, offset: number, shape: number[]): Tensor {
  const e = x.engine;
  const y = output(e, shape, [x]);
  copyBlock(x, x.ptr + offset * 4, y.ptr, plan, 0);
  e.record([x], () => {
    // Only part of x's gradient is touched, so the buffer must start from zero.
    copyBlock(x, e.gradOf(y).ptr, e.gradZeroed(x) + offset * 4, reversed(plan), 1);
  });
  return y;
}

/** Overwrites positions [pos, pos + n) of dst (B, T, D) with src (B, n, D), in place, without gradients. */
export function writeSeq(dst: Tensor, src: Tensor, pos: number): void {
  assertRank("writeSeq", dst, [3]);
  assertRank("writeSeq", src, [3]);
  const [batch, len, dim] = dst.shape;
  const n = src.shape[1];
  if (src.shape[0] !== batch || src.shape[2] !== dim || !Number.isInteger(pos) || pos < 0 || pos + n > len) {
    throw new Error(`writeSeq: ${src.describe()} does not fit ${dst.describe()} at position ${pos}`);
  }
  copyBlock(dst, src.ptr, dst.ptr + pos * dim * 4, { nBlocks: batch, rows: n, cols: dim, srcBlock: n * dim, srcRow: dim, dstBlock: len * dim, dstRow: dim }, 0);
}
