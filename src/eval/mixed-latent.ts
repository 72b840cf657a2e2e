/**
 * The paper's mixed-latent analysis (§5.1, → spec §6.1): is a route latent a linear mixture
 * of the two sibling candidates' embeddings, with the correct one dominant?
 * A "plane" is the span (through the origin) of two embedding rows; fits are least squares
 * on the 2×2 normal equations, so the explained fraction equals cos² of the angle between
 * the latent and the plane. Pair statistics come from a precomputed Gram matrix, so ranking
 * one latent against all V(V−1)/2 planes costs O(V·d + V²), fine for V ≈ 512.
 */

/** Least-squares fit of a latent r ≈ α·E[a] + β·E[b]. */
export interface PlaneFit {
  alpha: number;
  beta: number;
  /** ‖r − αE[a] − βE[b]‖. */
  residualNorm: number;
  /** ‖projection‖² / ‖r‖² = cos² of the angle between r and the plane (0 when r = 0). */
  explained: number;
  /** E[a], E[b] (near) collinear or zero: α, β are the minimum-norm solution. */
  degenerate: boolean;
}

/** Full analysis of one (latent, correct, other) triple. */
export interface MixedLatentResult extends PlaneFit {
  /** Fraction of candidate pairs that explain r better (ties count half); 0 = best plane. */
  percentileRank: number;
  /** α > β: the correct sibling has the larger (signed) coefficient. */
  correctMajor: boolean;
}

/** Aggregate over many triples. */
export interface MixedLatentSummary {
  count: number;
  meanPercentileRank: number;
  medianPercentileRank: number;
  correctMajorRate: number;
  meanAlpha: number;
  meanBeta: number;
  meanExplained: number;
}

/** Scores that differ by at most this (explained fractions lie in [0, 1]) count as ties. */
export const TIE_TOLERANCE = 1e-9;
/** det(G) below this fraction of ‖a‖²‖b‖² (sin² of the angle between the rows) counts as collinear. */
const COLLINEAR = 1e-10;

/** Copy of E (V×dim) with unit-length rows; all-zero rows stay zero. */
export function normalizeRows(e: Float32Array, dim: number): Float32Array {
  checkShape(e, dim);
  const out = new Float32Array(e.length);
  for (let off = 0; off < e.length; off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += e[off + j] * e[off + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[off + j] = e[off + j] * inv;
  }
  return out;
}

/**
 * Solves the 2×2 normal equations [aa ab; ab bb]·[α β]ᵀ = [ua ub]ᵀ; rr = ‖r‖².
 * Near-collinear rows make α, β unidentifiable; then the minimum-norm (pseudo-inverse) solution
 * is used, which splits the weight in proportion to the rows' lengths.
 */
export function solvePlane(aa: number, bb: number, ab: number, ua: number, ub: number, rr: number): Omit<PlaneFit, "residualNorm"> {
  const det = aa * bb - ab * ab;
  let alpha = 0, beta = 0, degenerate = false;
  if (det > COLLINEAR * aa * bb && det > 0) {
    alpha = (bb * ua - ab * ub) / det;
    beta = (aa * ub - ab * ua) / det;
  } else {
    degenerate = true;
    const trace = aa + bb;
    if (trace > 0) {
      // Rank-1 Gram: G = trace·vvᵀ with v the unit eigenvector; G⁺u = (v·u / trace)·v.
      let v0 = aa >= bb ? aa : ab, v1 = aa >= bb ? ab : bb;
      const len = Math.hypot(v0, v1);
      v0 /= len;
      v1 /= len;
      const c = (v0 * ua + v1 * ub) / trace;
      alpha = c * v0;
      beta = c * v1;
    }
  }
  const projSq = Math.max(0, alpha * ua + beta * ub);
  return { alpha, beta, explained: rr > 0 ? Math.min(1, projSq / rr) : 0, degenerate };
}

/** Precomputes the embedding Gram matrix so many latents can be analysed quickly. */
export class MixedLatentAnalyzer {
  readonly vocab: number;
  /** Token ids whose pairs form the ranking population. */
  readonly candidates: readonly number[];
  private readonly gram: Float64Array;
  private readonly isCandidate: Uint8Array;

  /** E is V×dim row-major; candidateIds restricts the ranked pairs (default: all tokens). */
  constructor(readonly e: Float32Array, readonly dim: number, candidateIds?: readonly number[]) {
    checkShape(e, dim);
    this.vocab = e.length / dim;
    this.candidates = candidateIds ? [...new Set(candidateIds)] : Array.from({ length: this.vocab }, (_, i) => i);
    this.isCandidate = new Uint8Array(this.vocab);
    for (const id of this.candidates) this.isCandidate[this.checkId(id, "candidate")] = 1;
    if (this.candidates.length < 2) throw new Error("MixedLatentAnalyzer: need at least 2 candidate tokens");
    this.gram = new Float64Array(this.vocab * this.vocab);
    for (let i = 0; i < this.vocab; i++) {
      for (let j = i; j < this.vocab; j++) {
        let s = 0;
        for (let x = 0; x < dim; x++) s += e[i * dim + x] * e[j * dim + x];
        this.gram[i * this.vocab + j] = s;
        this.gram[j * this.vocab + i] = s;
      }
    }
  }

  /** Least-squares fit of r onto the plane of tokens a and b. */
  fit(r: Float32Array, a: number, b: number): PlaneFit {
    this.checkLatent(r);
    const { e, dim, vocab } = this;
    const ua = this.dotRow(r, this.checkId(a, "a")), ub = this.dotRow(r, this.checkId(b, "b"));
    const s = solvePlane(this.gram[a * vocab + a], this.gram[b * vocab + b], this.gram[a * vocab + b], ua, ub, dotSelf(r));
    let res = 0;
    for (let x = 0; x < dim; x++) res += (r[x] - s.alpha * e[a * dim + x] - s.beta * e[b * dim + x]) ** 2;
    return { ...s, residualNorm: Math.sqrt(res) };
  }

  /** Percentile rank of plane {a, b} among all candidate pairs (see MixedLatentResult). */
  percentileRank(r: Float32Array, a: number, b: number): number {
    this.checkLatent(r);
    if (a === b) throw new Error(`percentileRank: a and b must differ, both are ${a}`);
    for (const id of [a, b]) {
      if (!this.isCandidate[this.checkId(id, "sibling")]) throw new Error(`percentileRank: token ${id} is not among candidateIds`);
    }
    const { vocab, gram, candidates } = this;
    const u = new Float64Array(vocab);
    for (const id of candidates) u[id] = this.dotRow(r, id);
    const rr = dotSelf(r);
    const score = (i: number, j: number) => solvePlane(gram[i * vocab + i], gram[j * vocab + j], gram[i * vocab + j], u[i], u[j], rr).explained;
    const own = score(a, b);
    let better = 0, tied = 0, total = 0;
    for (let x = 0; x < candidates.length; x++) {
      for (let y = x + 1; y < candidates.length; y++) {
        total++;
        const i = candidates[x], j = candidates[y];
        if ((i === a && j === b) || (i === b && j === a)) continue;
        const s = score(i, j);
        if (s > own + TIE_TOLERANCE) better++;
        else if (s >= own - TIE_TOLERANCE) tied++;
      }
    }
    return (better + 0.5 * tied) / total;
  }

  /** Fit, percentile rank and correct-major verdict for latent r with correct a and other b. */
  analyze(r: Float32Array, a: number, b: number): MixedLatentResult {
    const fit = this.fit(r, a, b);
    // Signed comparison: a negative coefficient means r points away from that token, which is
    // not "contributing"; |α| > |β| would credit a latent anti-aligned with the correct token.
    return { ...fit, percentileRank: this.percentileRank(r, a, b), correctMajor: fit.alpha > fit.beta };
  }

  private dotRow(r: Float32Array, id: number): number {
    let s = 0;
    const off = id * this.dim;
    for (let x = 0; x < this.dim; x++) s += r[x] * this.e[off + x];
    return s;
  }

  private checkId(id: number, what: string): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab) throw new Error(`MixedLatentAnalyzer: ${what} token id ${id} is outside 0..${this.vocab - 1}`);
    return id;
  }

  private checkLatent(r: Float32Array): void {
    if (r.length !== this.dim) throw new Error(`MixedLatentAnalyzer: latent has length ${r.length}, expected ${this.dim}`);
  }
}

/** Analyses many (latent, correct, other) triples with one analyzer. */
export function analyzeMany(analyzer: MixedLatentAnalyzer, triples: Iterable<{ latent: Float32Array; a: number; b: number }>): MixedLatentResult[] {
  return Array.from(triples, (t) => analyzer.analyze(t.latent, t.a, t.b));
}

/** Mean/median percentile rank, correct-major rate and mean coefficients over results. */
export function summarizeMixedLatents(results: readonly MixedLatentResult[]): MixedLatentSummary {
  const n = results.length;
  if (n === 0) throw new Error("summarizeMixedLatents: no results");
  const mean = (f: (r: MixedLatentResult) => number) => results.reduce((s, r) => s + f(r), 0) / n;
  const ranks = results.map((r) => r.percentileRank).sort((x, y) => x - y);
  const median = n % 2 ? ranks[(n - 1) / 2] : (ranks[n / 2 - 1] + ranks[n / 2]) / 2;
  return {
    count: n,
    meanPercentileRank: mean((r) => r.percentileRank),
    medianPercentileRank: median,
    correctMajorRate: mean((r) => (r.correctMajor ? 1 : 0)),
    meanAlpha: mean((r) => r.alpha),
    meanBeta: mean((r) => r.beta),
    meanExplained: mean((r) => r.explained),
  };
}

function dotSelf(r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * r[i];
  return s;
}

function checkShape(e: Float32Array, dim: number): void {
  if (!Number.isInteger(dim) || dim <= 0 || e.length % dim !== 0 || e.length === 0) {
    throw new Error(`embedding matrix of ${e.length} values is not a whole number of rows of width ${dim}`);
  }
}
