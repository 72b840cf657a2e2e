/** Cosine similarity of a vector to every row of an embedding table, and its nearest rows. */

/** Cosine of `x` to each row of `unitRows` (rows already L2-normalised, e.g. by normalizeRows). */
export function cosinesToRows(x: Float32Array, unitRows: Float32Array, dim: number): number[] {
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += x[j] * x[j];
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Array.from({ length: unitRows.length / dim }, (_, v) => {
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += x[j] * unitRows[v * dim + j];
    return dot * inv;
  });
}

/** The k rows of `unitRows` with the highest cosine to `x`, best first; ties go to the lower id. */
export function nearestRows(x: Float32Array, unitRows: Float32Array, dim: number, k: number): Array<{ id: number; cos: number }> {
  return cosinesToRows(x, unitRows, dim)
    .map((cos, id) => ({ id, cos }))
    .sort((a, b) => b.cos - a.cos || a.id - b.id)
    .slice(0, k);
}
