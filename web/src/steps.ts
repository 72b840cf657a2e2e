/**
 * What the page shows about each latent of a chain: the token the Talker read from it, its
 * cosine to every token's EMA target embedding, and (at a branching step) how it mixes the
 * two children of the current node, fitted as in the paper's mixed-latent analysis.
 */
import { letterId, TREE_END_ID, type TreeExample } from "../../src/data/tree.js";
import { cosinesToRows } from "../../src/eval/cosine.js";
import { argmax } from "../../src/infer/sampling.js";
import { MixedLatentAnalyzer, normalizeRows } from "../../src/eval/mixed-latent.js";

/** The latent fitted on the plane of the current node's two children: latent ≈ α·E[correct] + β·E[other]. */
export interface SiblingMix {
  parent: string;
  correct: string;
  other: string;
  alpha: number;
  beta: number;
  /** Share of the tree's letter pairs whose plane explains the latent better (0 = the best plane). */
  rank: number;
  pairs: number;
}

/** One latent of the chain, as the page shows it. */
export interface LatentStep {
  index: number;
  /** The token this latent should be read as: the route letter, then `<end>`. */
  expected: number;
  /** The token the Talker read. */
  token: number;
  /** Cosine to every vocabulary row of the EMA target embedding, by token id. */
  cosines: number[];
  nearest: number;
  mix: SiblingMix | null;
}

/** Analyses every latent of a chain (steps × dim) read as `tokens` for `example`. */
export function analyzeChain(chain: Float32Array, tokens: readonly number[], example: TreeExample, ema: Float32Array, dim: number): LatentStep[] {
  const table = normalizeRows(ema, dim);
  const letters = [...new Set(example.edges.flat())].map(letterId);
  const analyzer = new MixedLatentAnalyzer(table, dim, letters);
  const expected = [...example.route.map(letterId), TREE_END_ID];
  return expected.map((want, i) => {
    const latent = chain.subarray(i * dim, (i + 1) * dim);
    const cosines = cosinesToRows(latent, table, dim);
    const nearest = argmax(cosines);
    const siblings = i >= 1 ? example.siblings[i - 1] : undefined;
    let mix: SiblingMix | null = null;
    if (siblings) {
      const fit = analyzer.analyze(latent, letterId(siblings[0]), letterId(siblings[1]));
      mix = { parent: example.route[i - 1], correct: siblings[0], other: siblings[1], alpha: fit.alpha, beta: fit.beta, rank: fit.percentileRank, pairs: (letters.length * (letters.length - 1)) / 2 };
    }
    return { index: i, expected: want, token: tokens[i], cosines, nearest, mix };
  });
}
