/** Embedding lookup with a scatter-add backward. */
import type { Tensor } from "../tensor.js";
import { assertDtype, output } from "./common.js";

/** Rows of table (V, D) picked by the i32 ids: shape ids.shape + [D]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  assertDtype("embedding", ids, "i32");
  if (table.rank !== 2) throw new Error(`embedding: table must be (vocab, dim), got ${table.describe()}`);
  const [vocab, dim] = table.shape;
  const values = ids.ints();
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= vocab || !Number.isInteger(values[i])) {
      throw new Error(`embedding: token id ${values[i]} at position ${i} is outside the vocabulary [0, ${vocab})`);
    }
  }
  const e = table.engine;
  const y = output(e, [...ids.shape, dim], [table]);
  e.runRows("embed_forward", [table.ptr, ids.ptr, y.ptr, ids.size, dim], ids.size, dim * 4);
  e.record([table], () => {
    // Each chunk owns a band of vocabulary rows, so repeated ids never race.
    const per = Math.max(1, Math.ceil(vocab / (e.threads * 8)));
    e.pool.run("embed_backward", [ids.ptr, e.gradOf(y).ptr, e.gradZeroed(table), ids.size, dim, vocab, per], Math.ceil(vocab / per));
  });
  return y;
}
