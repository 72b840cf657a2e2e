/** Configuration of the Transformer stacks every model in the project is built from. */

/** The QK-Norm variants (src/model/qk-norm.ts). */
export const QK_NORMS = ["paper", "temp", "none"] as const;
/** One QK-Norm variant. */
export type QKNorm = (typeof QK_NORMS)[number];

/** Sizes and constants of a pre-norm Transformer with QK-Norm, RoPE and a GELU MLP. */
export interface TransformerConfig {
  vocab: number;
  /** Width of the residual stream (the latent width of a Reasoner). */
  dModel: number;
  layers: number;
  heads: number;
  /** Width of q, k and v (may differ from dModel, as in the paper's Table 2). */
  attnDim: number;
  mlpDim: number;
  normEps: number;
  ropeBase: number;
  /**
   * Multiplier of the usual 1/√dh softmax scale. With QK-Norm, q and k have RMS 1, so the
   * logits are bounded by √dh·attnScale; above 1 lets attention get sharper (default 1).
   */
  attnScale?: number;
  /** Query/key normalisation (src/model/qk-norm.ts): "paper" (default), "temp" or "none". */
  qkNorm?: QKNorm;
  /** Initial temperature g of the "temp" QK-Norm, logits g·cos(q, k) (default 10). */
  qkTemp?: number;
}

/** The standard benchmark workload (the figures in the README are measured on it). */
export const BENCH_CONFIG: TransformerConfig = {
  vocab: 512, dModel: 256, layers: 4, heads: 4, attnDim: 256, mlpDim: 1024, normEps: 1e-5, ropeBase: 10000,
};

/** Throws one clear error for the first field out of range. */
export function validateConfig(c: TransformerConfig): void {
  const positive = ["vocab", "dModel", "layers", "heads", "attnDim", "mlpDim"] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new Error(`config: ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.attnDim % c.heads !== 0) throw new Error(`config: attnDim ${c.attnDim} is not divisible by heads ${c.heads}`);
  const headDim = c.attnDim / c.heads;
  if (headDim % 4 !== 0) throw new Error(`config: head dimension ${headDim} must be a multiple of 4 (attnDim / heads)`);
  if (!(c.normEps > 0 && c.normEps < 1)) throw new Error(`config: normEps must be in (0, 1), got ${c.normEps}`);
  if (!(c.ropeBase > 1)) throw new Error(`config: ropeBase must be > 1, got ${c.ropeBase}`);
  if (c.attnScale !== undefined && !(c.attnScale > 0 && c.attnScale <= 64)) throw new Error(`config: attnScale must be in (0, 64], got ${c.attnScale}`);
  if (c.qkNorm !== undefined && !QK_NORMS.includes(c.qkNorm)) throw new Error(`config: qkNorm must be paper, temp or none, got ${c.qkNorm}`);
  if (c.qkTemp !== undefined && !(c.qkTemp > 0 && c.qkTemp <= 1000)) throw new Error(`config: qkTemp must be in (0, 1000], got ${c.qkTemp}`);
}

/** Parameters of the stack (embedding included, tied head not counted twice). */
export function parameterCount(c: TransformerConfig): number {
  const temps = c.qkNorm === "temp" ? c.heads : 0;
  const block = 2 * c.dModel + 3 * c.attnDim * c.dModel + c.dModel * c.attnDim + 2 * c.mlpDim * c.dModel + temps;
  return c.vocab * c.dModel + c.layers * block + c.dModel;
}

/** The softmax scale of a stack's attention: attnScale / √(head dimension). */
export function softmaxScale(c: TransformerConfig): number {
  return (c.attnScale ?? 1) / Math.sqrt(c.attnDim / c.heads);
}
