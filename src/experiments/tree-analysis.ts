/**
 * The analyses of the tree-search experiment: the mixed-latent test at each branching step,
 * the PCA picture of embeddings and latents, and error containment shown on this task.
 */
import { letterId, TREE_VOCAB, type TreeExample } from "../data/tree.js";
import { MixedLatentAnalyzer, normalizeRows, summarizeMixedLatents, type MixedLatentSummary } from "../eval/mixed-latent.js";
import { pca } from "../eval/pca.js";
import { scatterPlot } from "../report/svg.js";

/** Mixed-latent results overall and per branching step, for one choice of embedding. */
export interface MixedLatentReport {
  embedding: string;
  population: string;
  overall: MixedLatentSummary;
  perStep: MixedLatentSummary[];
}

/**
 * For every branching step (chain latent i predicts route[i], i ≥ 1), fits the latent on the
 * plane of the current node's two children and ranks that plane among all candidate pairs.
 */
export function mixedLatents(
  chains: Float32Array[], examples: readonly TreeExample[], embedding: Float32Array, dim: number, label: string,
  candidates: { ids: readonly number[]; name: string },
): MixedLatentReport {
  const analyzer = new MixedLatentAnalyzer(normalizeRows(embedding, dim), dim, candidates.ids);
  const branching = examples[0].siblings.length;
  const perStep = Array.from({ length: branching }, () => [] as ReturnType<MixedLatentAnalyzer["analyze"]>[]);
  examples.forEach((ex, t) => {
    ex.siblings.forEach(([correct, other], s) => {
      const latent = chains[t].subarray((s + 1) * dim, (s + 2) * dim);
      perStep[s].push(analyzer.analyze(latent, letterId(correct), letterId(other)));
    });
  });
  return {
    embedding: label,
    population: `${candidates.name} (${(candidates.ids.length * (candidates.ids.length - 1)) / 2} pairs)`,
    overall: summarizeMixedLatents(perStep.flat()),
    perStep: perStep.map(summarizeMixedLatents),
  };
}

/** SVG: letter embeddings and route latents in the plane of the embeddings' top two components. */
export function pcaFigure(
  chains: Float32Array[], examples: readonly TreeExample[], embedding: Float32Array, dim: number, embeddingName: string, letterIds: readonly number[],
): { svg: string; explained: number[] } {
  const letters = new Float32Array(letterIds.length * dim);
  letterIds.forEach((id, i) => letters.set(normalizeRows(embedding.subarray(id * dim, (id + 1) * dim), dim), i * dim));
  const fit = pca(letters, dim, 2, { seed: 1 });
  const proj = fit.project(letters);
  const steps = examples[0].route.length + 1;
  const sample = examples.slice(0, 150);
  const byStep = Array.from({ length: steps - 1 }, (_, s) => ({
    name: `latent ${s + 1}`,
    points: pointsOf(fit.project(concatRows(sample.map((_, t) => chains[t].subarray(s * dim, (s + 1) * dim))))),
  }));
  const example = examples[0];
  const trajectory = fit.project(chains[0].subarray(0, (steps - 1) * dim));
  return {
    explained: fit.explainedVarianceRatio,
    svg: scatterPlot({
      title: `PCA of ${embeddingName} letter embeddings with route latents`,
      xLabel: `PC1 (${(100 * fit.explainedVarianceRatio[0]).toFixed(1)} % of embedding variance)`,
      yLabel: `PC2 (${(100 * fit.explainedVarianceRatio[1]).toFixed(1)} %)`,
      width: 760,
      height: 560,
      // Latents first, so the letters are drawn on top of the cloud.
      groups: [
        ...byStep,
        { name: `route ${example.route.join("")}`, connect: true, points: pointsOf(trajectory).map((p, i) => ({ ...p, label: String(i + 1) })) },
        { name: "letters", marker: "diamond", points: letterIds.map((id, i) => ({ x: proj[2 * i], y: proj[2 * i + 1], label: TREE_VOCAB[id] })) },
      ],
    }),
  };
}

function pointsOf(xy: Float32Array): Array<{ x: number; y: number }> {
  return Array.from({ length: xy.length / 2 }, (_, i) => ({ x: xy[2 * i], y: xy[2 * i + 1] }));
}

function concatRows(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
  let o = 0;
  for (const r of rows) {
    out.set(r, o);
    o += r.length;
  }
  return out;
}
