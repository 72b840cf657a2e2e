/**
 * Rendering a run as HTML and SVG: the route read, one row per latent (the token read, which
 * can be overwritten; the two candidates with α and β; a heat strip of cosines to every token),
 * and the PCA picture of the tree's letter embeddings with the chain drawn through it.
 */
import { decodeTree, letterId, TREE_END_ID, TREE_LETTER_IDS, TREE_VOCAB, type TreeExample } from "../../src/data/tree.js";
import { normalizeRows } from "../../src/eval/mixed-latent.js";
import { pca } from "../../src/eval/pca.js";
import { formatNumber, heatStrip, scatterPlot } from "../../src/report/svg.js";
import { escapeHtml } from "./dom.js";
import type { LatentStep } from "./steps.js";

const CHOICES = [...TREE_LETTER_IDS, TREE_END_ID];

/** The route as shown: the letters read (overwritten ones marked), then the final token. */
export function routeHtml(shown: readonly number[], read: readonly number[], depth: number): string {
  const letter = (id: number, i: number) => (id === read[i] ? escapeHtml(TREE_VOCAB[id]) : `<mark>${escapeHtml(TREE_VOCAB[id])}</mark>`);
  return shown.slice(0, depth).map(letter).join("");
}

/** Whether the shown tokens are the correct route followed by `<end>`, in words. */
export function verdict(shown: readonly number[], example: TreeExample): { ok: boolean; text: string } {
  const expected = [...example.route.map(letterId), TREE_END_ID];
  const wrong = expected.findIndex((id, i) => shown[i] !== id);
  if (wrong < 0) return { ok: true, text: "then <end>: correct" };
  return { ok: false, text: `${shown.length > example.route.length ? `then ${TREE_VOCAB[shown[example.route.length]]}` : ""}: wrong from step ${wrong + 1}, which should read ${TREE_VOCAB[expected[wrong]]} (the route is ${decodeTree(example.route.map(letterId))})` };
}

/** One row per latent. `shown` holds the tokens on display (the Talker's, or a person's overwrite). */
export function stepsHtml(steps: readonly LatentStep[], shown: readonly number[]): string {
  return steps.map((s) => stepHtml(s, shown[s.index], steps.length)).join("");
}

function stepHtml(s: LatentStep, shown: number, total: number): string {
  const want = TREE_VOCAB[s.expected];
  const role = s.index === 0 ? " (the root, given in the prompt)" : s.index === total - 1 ? " (after the target)" : "";
  const options = CHOICES.map((id) => `<option value="${id}"${id === shown ? " selected" : ""}>${escapeHtml(TREE_VOCAB[id])}</option>`).join("");
  const note = shown !== s.token ? ` <span class="wrong">overwritten; the Talker read ${escapeHtml(TREE_VOCAB[s.token])}</span>` : "";
  const strip = heatStrip({ title: "cosine to each token's EMA target embedding", labels: [...TREE_VOCAB], values: s.cosines, range: [-1, 1], width: 540, height: 190, showValues: false });
  return `<div class="step" data-step="${s.index}">
  <div>
    <h3>latent ${s.index + 1} · should read ${escapeHtml(want)}${escapeHtml(role)}</h3>
    <p>the Talker read <select data-step="${s.index}" aria-label="token read from latent ${s.index + 1}">${options}</select>${note}</p>
    <p class="muted">nearest token: ${escapeHtml(TREE_VOCAB[s.nearest])} (cosine ${formatNumber(s.cosines[s.nearest])})</p>
    ${mixHtml(s)}
  </div>
  <div class="strip">${strip}</div>
</div>`;
}

function mixHtml(s: LatentStep): string {
  const m = s.mix;
  if (!m) return `<p class="muted">no choice to make at this step</p>`;
  const verdictClass = m.alpha > m.beta ? "correct" : "wrong";
  return `<p class="mix" data-alpha="${m.alpha}" data-beta="${m.beta}">children of ${escapeHtml(m.parent)}: <b>${escapeHtml(m.correct)}</b> α = <span class="coef ${verdictClass}">${m.alpha.toFixed(3)}</span>, ${escapeHtml(m.other)} β = <span class="coef">${m.beta.toFixed(3)}</span></p>
    <p class="muted">plane rank ${Math.round(m.rank * m.pairs) + 1} of ${m.pairs}</p>`;
}

/** PCA of the tree's letter embeddings (EMA rows, L2-normalised) with the chain's latents drawn through it. */
export function pcaSvg(chain: Float32Array, example: TreeExample, ema: Float32Array, dim: number): string {
  const letters = [...new Set(example.edges.flat())].sort();
  const rows = new Float32Array(letters.length * dim);
  letters.forEach((l, i) => rows.set(ema.subarray(letterId(l) * dim, (letterId(l) + 1) * dim), i * dim));
  const unit = normalizeRows(rows, dim);
  const fit = pca(unit, dim, 2, { seed: 1 });
  const xy = fit.project(unit), path = fit.project(chain);
  const onRoute = new Set(example.route);
  const points = (keep: (l: string) => boolean) => letters.flatMap((l, i) => (keep(l) ? [{ x: xy[2 * i], y: xy[2 * i + 1], label: l }] : []));
  return scatterPlot({
    title: "The tree's letters and the chain (PCA)",
    xLabel: `PC1 (${(100 * fit.explainedVarianceRatio[0]).toFixed(1)} % of the letters' variance)`,
    yLabel: `PC2 (${(100 * fit.explainedVarianceRatio[1]).toFixed(1)} %)`,
    width: 470,
    height: 440,
    groups: [
      { name: "latents 1…" + path.length / 2, connect: true, color: "#D55E00", points: Array.from({ length: path.length / 2 }, (_, i) => ({ x: path[2 * i], y: path[2 * i + 1], label: String(i + 1) })) },
      { name: "route letters", marker: "diamond", color: "#009E73", points: points((l) => onRoute.has(l)) },
      { name: "other letters", marker: "diamond", color: "#8a8f96", points: points((l) => !onRoute.has(l)) },
    ],
  });
}
