/**
 * Token datasets and deterministic batching. A batch is a pure function of the data position
 * (examples consumed so far) and the seed, so a resumed run sees exactly the batches an
 * uninterrupted one would have seen.
 */
import { Rng } from "../engine/rng.js";

/** One sequence; positions whose next token lies at index >= lossStart carry a target. */
export interface Example {
  tokens: number[];
  lossStart: number;
  /** Input positions [from, to) that the dataset's inputDropout may hide (targets stay). */
  dropInputs?: { from: number; to: number };
}

/** Examples over a vocabulary with a padding id. */
export interface Dataset {
  vocab: number;
  padId: number;
  examples: Example[];
  /**
   * Span dropout of teacher-forced inputs: each input in an example's dropInputs span is
   * replaced by padId with this probability (training batches only; default 0).
   */
  inputDropout?: number;
}

/** Inputs and next-token targets (-1 = no loss), both (batch × seq), row-major. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  batch: number;
  seq: number;
}

/** Which positions get a target: every next token, or only those from each example's lossStart. */
export type LossPositions = "all" | "answer";

/** The batch of `size` examples starting at `position` of the seeded epoch order. */
export function batchAt(data: Dataset, position: number, size: number, seq: number, seed: number, loss: LossPositions): Batch {
  const inputs = new Int32Array(size * seq).fill(data.padId);
  const targets = new Int32Array(size * seq).fill(-1);
  for (let b = 0; b < size; b++) {
    const ex = data.examples[exampleIndex(data.examples.length, position + b, seed)];
    fillRow(ex, inputs.subarray(b * seq, (b + 1) * seq), targets.subarray(b * seq, (b + 1) * seq), loss);
    if (data.inputDropout && ex.dropInputs) dropInputs(ex.dropInputs, inputs.subarray(b * seq, (b + 1) * seq), data, position + b, seed);
  }
  return { inputs, targets, batch: size, seq };
}

/** Hides inputs of one row; the draw depends only on (seed, position), so a resumed run sees the same batches. */
function dropInputs(span: { from: number; to: number }, inputs: Int32Array, data: Dataset, position: number, seed: number): void {
  const rng = new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(position + 1, 0x85ebca6b)) >>> 0);
  for (let t = span.from; t < Math.min(span.to, inputs.length); t++) {
    if (rng.uniform() < data.inputDropout!) inputs[t] = data.padId;
  }
}

/** Consecutive examples [start, start + size) in their stored order (evaluation, no shuffling). */
export function batchInOrder(data: Dataset, start: number, size: number, seq: number, loss: LossPositions): Batch {
  const n = Math.min(size, data.examples.length - start);
  const inputs = new Int32Array(n * seq).fill(data.padId);
  const targets = new Int32Array(n * seq).fill(-1);
  for (let b = 0; b < n; b++) {
    fillRow(data.examples[start + b], inputs.subarray(b * seq, (b + 1) * seq), targets.subarray(b * seq, (b + 1) * seq), loss);
  }
  return { inputs, targets, batch: n, seq };
}

/** Longest example, to size the sequence length. */
export function maxLength(data: Dataset): number {
  return data.examples.reduce((m, e) => Math.max(m, e.tokens.length), 0);
}

function fillRow(ex: Example, inputs: Int32Array, targets: Int32Array, loss: LossPositions): void {
  const seq = inputs.length;
  if (ex.tokens.length > seq + 1) throw new Error(`an example of ${ex.tokens.length} tokens does not fit a sequence of ${seq}`);
  for (let t = 0; t < Math.min(seq, ex.tokens.length); t++) inputs[t] = ex.tokens[t];
  for (let t = 0; t + 1 < ex.tokens.length && t < seq; t++) {
    if (loss === "all" || t + 1 >= ex.lossStart) targets[t] = ex.tokens[t + 1];
  }
}

/** Index of the example at a global position: epoch e visits all examples in a shuffled order. */
function exampleIndex(count: number, position: number, seed: number): number {
  if (count === 0) throw new Error("the dataset has no examples");
  const epoch = Math.floor(position / count);
  return epochOrder(count, seed, epoch)[position % count];
}

const orderCache = new Map<string, number[]>();

function epochOrder(count: number, seed: number, epoch: number): number[] {
  const key = `${count}:${seed}:${epoch}`;
  let order = orderCache.get(key);
  if (!order) {
    order = new Rng(seed * 1000003 + epoch).shuffle(Array.from({ length: count }, (_, i) => i));
    if (orderCache.size > 8) orderCache.clear();
    orderCache.set(key, order);
  }
  return order;
}
