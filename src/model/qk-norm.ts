/**
 * The query/key normalisation of every attention layer, in one place. "paper": parameter-free
 * RMS per head, logits scaled by attnScale/√dh (the paper's QK-Norm, at most √dh·attnScale).
 * "temp": the same normalisation, logits g_h·cos(q, k) with a learnable per-head temperature
 * g_h = qkTemp·exp(s_h) (Henry et al. 2020), which lets attention become as sharp as a lookup
 * needs. "none": raw q and k (an ablation).
 */
import { headScale } from "../engine/ops/head-scale.js";
import { headNorm } from "../engine/ops/norm.js";
import type { Tensor } from "../engine/tensor.js";
import type { QKNorm, TransformerConfig } from "./config.js";
import type { ParamStore } from "./params.js";

/** Initial temperature of the "temp" variant (x-transformers' cosine-sim attention uses 10). */
export const DEFAULT_QK_TEMP = 10;

/** The variant a config asks for (checkpoints from before the field existed are "paper"). */
export function qkNormOf(c: TransformerConfig): QKNorm {
  return c.qkNorm ?? "paper";
}

/** Registers the variant's parameters of one attention layer (`prefix` names it, e.g. blocks.0.attn). */
export function createQKNorm(store: ParamStore, c: TransformerConfig, prefix: string): void {
  if (qkNormOf(c) === "temp") store.zeros(`${prefix}.qk_temp`, [c.heads]);
}

/** Queries and keys of one attention layer, normalised as the config's variant says. */
export function normQueryKey(store: ParamStore, c: TransformerConfig, prefix: string, q: Tensor, k: Tensor): [Tensor, Tensor] {
  const kind = qkNormOf(c);
  if (kind === "none") return [q, k];
  const qn = headNorm(q, c.heads, c.normEps), kn = headNorm(k, c.heads, c.normEps);
  if (kind === "paper") return [qn, kn];
  // The attention multiplies by attnScale/√dh; q̂·k̂/dh = cos, so scale q by qkTemp/√dh.
  const dh = c.attnDim / c.heads;
  return [headScale(qn, store.get(`${prefix}.qk_temp`), c.heads, (c.qkTemp ?? DEFAULT_QK_TEMP) / Math.sqrt(dh)), kn];
}
