// PCA and the mixed-latent (sibling plane) analysis on planted structure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/rng.js";
import { jacobiEigen, pca } from "../src/eval/pca.js";
import { cosinesToRows, nearestRows } from "../src/eval/cosine.js";
import { MixedLatentAnalyzer, normalizeRows, solvePlane, summarizeMixedLatents } from "../src/eval/mixed-latent.js";

/** A random unit vector of length d. */
function unit(rng: Rng, d: number): Float32Array {
  const v = rng.normals(d);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test("jacobiEigen diagonalises a symmetric matrix", () => {
  const m = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 1]);
  const { values, vectors } = jacobiEigen(m, 3);
  assert.ok(values[0] >= values[1] && values[1] >= values[2]);
  vectors.forEach((v, i) => {
    const mv = [0, 1, 2].map((r) => dot(m.subarray(r * 3, r * 3 + 3), v));
    mv.forEach((x, r) => assert.ok(Math.abs(x - values[i] * v[r]) < 1e-9));
  });
  assert.ok(Math.abs(values.reduce((s, x) => s + x, 0) - 8) < 1e-9, "trace preserved");
});

test("PCA recovers a planted 2-D structure with orthonormal components", () => {
  const rng = new Rng(21);
  const d = 64, n = 400;
  const u = unit(rng, d);
  const w0 = unit(rng, d);
  const p = dot(w0, u);
  const w = unit(rng, d).map((_, i) => w0[i] - p * u[i]);
  const wn = Math.hypot(...w);
  const v = w.map((x) => x / wn);
  const rows = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const a = 5 * rng.normal(), b = 3 * rng.normal();
    for (let j = 0; j < d; j++) rows[r * d + j] = 2 + a * u[j] + b * v[j] + 0.1 * rng.normal();
  }
  const res = pca(rows, d, 3, { seed: 1 });
  const c = (i: number) => res.components.subarray(i * d, i * d + d);
  assert.ok(res.explainedVarianceRatio[0] + res.explainedVarianceRatio[1] > 0.9);
  assert.ok(res.explainedVarianceRatio[0] > res.explainedVarianceRatio[1]);
  assert.ok(Math.abs(dot(c(0), u)) > 0.99, "PC1 is the planted high-variance direction");
  assert.ok(Math.abs(dot(c(1), v)) > 0.99, "PC2 is the second planted direction");
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(dot(c(i), c(j)) - (i === j ? 1 : 0)) < 1e-5, `orthonormal ${i},${j}`);
  }
  const proj = res.project(rows);
  assert.equal(proj.length, n * 3);
  const meanPc1 = Array.from({ length: n }, (_, r) => proj[r * 3]).reduce((s, x) => s + x, 0) / n;
  assert.ok(Math.abs(meanPc1) < 1e-3, "projection is centred");
  const again = pca(rows, d, 3, { seed: 1 });
  assert.deepEqual(again.components, res.components, "deterministic");
});

test("PCA handles close eigenvalues and k = dim", () => {
  const rng = new Rng(4);
  const d = 6, n = 300;
  const scales = [3, 2.9, 1, 0.5, 0.2, 0.1];
  const rows = Float32Array.from({ length: n * d }, (_, i) => scales[i % d] * rng.normal());
  const res = pca(rows, d, d);
  const sum = res.explainedVarianceRatio.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(sum - 1) < 1e-6, "all components explain everything");
  assert.throws(() => pca(rows, 7, 2), /not a whole number of rows/);
});

/** A random V×d embedding matrix with unit rows. */
function embeddings(rng: Rng, vocab: number, d: number): Float32Array {
  return normalizeRows(rng.normals(vocab * d), d);
}

test("a planted mixture 0.8·E[a] + 0.3·E[b] is recovered and ranks at the top", () => {
  const rng = new Rng(8);
  const V = 32, d = 64;
  const e = embeddings(rng, V, d);
  const an = new MixedLatentAnalyzer(e, d);
  const results = [];
  for (let t = 0; t < 20; t++) {
    const a = rng.int(V);
    const b = (a + 1 + rng.int(V - 1)) % V;
    const r = Float32Array.from({ length: d }, (_, j) => 0.8 * e[a * d + j] + 0.3 * e[b * d + j] + 0.01 * rng.normal());
    const res = an.analyze(r, a, b);
    assert.ok(Math.abs(res.alpha - 0.8) < 0.05 && Math.abs(res.beta - 0.3) < 0.05, `α=${res.alpha} β=${res.beta}`);
    assert.ok(res.explained > 0.98 && res.residualNorm < 0.15, `explained ${res.explained}`);
    assert.equal(res.percentileRank, 0);
    assert.ok(res.correctMajor);
    results.push(res);
    const swapped = an.analyze(r, b, a);
    assert.ok(!swapped.correctMajor);
    assert.equal(swapped.percentileRank, 0, "pair rank does not depend on order");
  }
  const s = summarizeMixedLatents(results);
  assert.equal(s.correctMajorRate, 1);
  assert.equal(s.meanPercentileRank, 0);
  assert.equal(s.count, 20);
});

test("random latents get a middling rank on average; candidate subsets rank fewer pairs", () => {
  const rng = new Rng(12);
  const V = 40, d = 48;
  const e = embeddings(rng, V, d);
  const an = new MixedLatentAnalyzer(e, d);
  const ranks = [];
  for (let t = 0; t < 200; t++) {
    const a = rng.int(V);
    const b = (a + 1 + rng.int(V - 1)) % V;
    ranks.push(an.analyze(rng.normals(d), a, b));
  }
  const s = summarizeMixedLatents(ranks);
  assert.ok(s.meanPercentileRank > 0.4 && s.meanPercentileRank < 0.6, `mean ${s.meanPercentileRank}`);
  assert.ok(s.correctMajorRate > 0.35 && s.correctMajorRate < 0.65);
  const sub = new MixedLatentAnalyzer(e, d, [0, 1, 2, 3]);
  const r = Float32Array.from({ length: d }, (_, j) => e[2 * d + j] + e[3 * d + j]);
  assert.equal(sub.percentileRank(r, 2, 3), 0);
  // 6 pairs; {0,1} cannot explain r better than {2,3}; rank of {0,1} counts the better ones among 6.
  const rank01 = sub.percentileRank(r, 0, 1);
  assert.ok(rank01 > 0 && rank01 <= 5 / 6 && Number.isInteger(rank01 * 6 * 2));
  assert.throws(() => sub.percentileRank(r, 2, 7), /not among candidateIds/);
});

test("ties count half and collinear pairs use the minimum-norm solution", () => {
  const d = 4;
  // Rows 0 and 1 identical: {0,2} and {1,2} explain r equally well, a tie.
  const e = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
  const an = new MixedLatentAnalyzer(e, d);
  const r = Float32Array.from([1, 1, 0, 0]);
  // Pairs: {0,1} 0.5, {0,2} 1, {0,3} 0.5, {1,2} 1, {1,3} 0.5, {2,3} 0.5 → {0,2}: one tie out of 6.
  assert.equal(an.percentileRank(r, 0, 2), 0.5 / 6);
  const fit = an.fit(r, 0, 1);
  assert.ok(fit.degenerate);
  assert.ok(Math.abs(fit.alpha - 0.5) < 1e-9 && Math.abs(fit.beta - 0.5) < 1e-9, "weight split evenly");
  assert.ok(Math.abs(fit.explained - 0.5) < 1e-9);
  assert.ok(Math.abs(fit.residualNorm - 1) < 1e-6);
  const zero = solvePlane(0, 0, 0, 0, 0, 1);
  assert.deepEqual([zero.alpha, zero.beta, zero.explained, zero.degenerate], [0, 0, 0, true]);
});

test("plane ranking over a 512-token vocabulary agrees with projecting onto every plane by Gram-Schmidt", () => {
  // Its speed is a benchmark figure, not a test; here its answer is checked against an
  // independent computation of every one of the 130,816 planes.
  const rng = new Rng(2);
  const V = 512, d = 64;
  const e = embeddings(rng, V, d);
  const r = rng.normals(d);
  const rank = new MixedLatentAnalyzer(e, d).percentileRank(r, 3, 9);
  const row = (i: number) => e.subarray(i * d, (i + 1) * d);
  const rDot = Array.from({ length: V }, (_, i) => dot(r, row(i)));
  const rr = dot(r, r);
  // Unit rows a, b: q1 = a, q2 = (b − (a·b)a)/√(1 − (a·b)²); the share is ((r·q1)² + (r·q2)²)/‖r‖².
  const share = (i: number, j: number) => {
    const ab = dot(row(i), row(j));
    return (rDot[i] ** 2 + (rDot[j] - ab * rDot[i]) ** 2 / (1 - ab * ab)) / rr;
  };
  const own = share(3, 9);
  let better = 0, tied = 0, total = 0;
  for (let i = 0; i < V; i++) {
    for (let j = i + 1; j < V; j++) {
      total++;
      if (i === 3 && j === 9) continue;
      const s = share(i, j);
      if (s > own + 1e-9) better++;
      else if (s >= own - 1e-9) tied++;
    }
  }
  assert.ok(Math.abs(rank - (better + tied / 2) / total) < 1e-6, `rank ${rank} vs ${(better + tied / 2) / total}`);
  assert.ok(rank > 0.05 && rank < 0.95, "a random latent ranks its plane somewhere in the middle");
});

test("normalizeRows gives unit rows and keeps zero rows", () => {
  const out = normalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
  assert.deepEqual([...out], [0.6, 0.8, 0, 0].map((x) => Math.fround(x)));
});

test("nearestRows ranks rows by cosine, whatever the latent's length, ties to the lower id", () => {
  const rows = normalizeRows(Float32Array.from([1, 0, 0, 1, 1, 1, 0, 1]), 2); // rows 1 and 3 are equal
  const near = nearestRows(Float32Array.from([0.2, 3]), rows, 2, 3);
  assert.deepEqual(near.map((n) => n.id), [1, 3, 2]);
  assert.ok(Math.abs(near[0].cos - 3 / Math.hypot(0.2, 3)) < 1e-6);
  assert.ok(Math.abs(cosinesToRows(Float32Array.from([0, -2]), rows, 2)[2] + Math.SQRT1_2) < 1e-6);
});
