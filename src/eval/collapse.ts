/**
 * Collapse diagnostics for latents trained against a moving target: if every latent drifts to
 * one direction, the SST loss can fall while nothing is learnt. Reported beside the loss.
 */
import { jacobiEigen } from "./pca.js";

/** Summary statistics of a set of latent vectors. */
export interface CollapseStats {
  /** Mean cosine between distinct latents (1 = total collapse). */
  meanPairwiseCos: number;
  /** exp(entropy) of the normalised covariance spectrum (1 = a single direction). */
  effectiveRank: number;
  /** Mean over dimensions of the standard deviation across latents. */
  dimSpread: number;
}

/**
 * Statistics of up to `maxRows` rows of an n×dim matrix (evenly spaced rows when there are
 * more). The spectrum comes from the centred Gram matrix, so the effective rank is at most
 * the number of rows used minus one.
 */
export function collapseStats(rows: Float32Array, dim: number, maxRows = 128): CollapseStats {
  const n = rows.length / dim;
  if (n < 2) throw new Error(`collapseStats: need at least 2 latents, got ${n}`);
  const m = Math.min(n, maxRows);
  const picked = Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
  const sample = picked.map((r) => rows.subarray(r * dim, (r + 1) * dim));
  return { meanPairwiseCos: meanCos(sample), effectiveRank: effectiveRank(sample, dim), dimSpread: spread(sample, dim) };
}

function meanCos(rows: Float32Array[]): number {
  const norms = rows.map((r) => Math.sqrt(dot(r, r)) || 1);
  let total = 0, pairs = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      total += dot(rows[i], rows[j]) / (norms[i] * norms[j]);
      pairs++;
    }
  }
  return total / pairs;
}

function effectiveRank(rows: Float32Array[], dim: number): number {
  const m = rows.length;
  const mean = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j] += r[j] / m;
  const centred = rows.map((r) => Float64Array.from(r, (v, j) => v - mean[j]));
  const gram = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) gram[i * m + j] = gram[j * m + i] = dot(centred[i], centred[j]);
  const values = jacobiEigen(gram, m).values.map((v) => Math.max(v, 0));
  const total = values.reduce((a, b) => a + b, 0);
  if (total <= 0) return 1;
  let entropy = 0;
  for (const v of values) if (v > 0) entropy -= (v / total) * Math.log(v / total);
  return Math.exp(entropy);
}

function spread(rows: Float32Array[], dim: number): number {
  let total = 0;
  for (let j = 0; j < dim; j++) {
    let s = 0, s2 = 0;
    for (const r of rows) {
      s += r[j];
      s2 += r[j] * r[j];
    }
    const mean = s / rows.length;
    total += Math.sqrt(Math.max(0, s2 / rows.length - mean * mean));
  }
  return total / dim;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
