/** SVG figures of the CFG report: the Fig. 3 panels, latent noise (Table 4), grammaticality. */
import { escapeXml, lineChart } from "../report/svg.js";
import { LATENT_NOISE_LEVELS, TOKEN_NOISE_LEVELS } from "./cfg-config.js";
import type { CfgEval } from "./cfg-eval.js";
import { PAPER_TABLE4, PAPER_TABLE7 } from "./cfg-paper.js";
import type { CompletionScores } from "./cfg-score.js";

/** Accuracy at step s (0-based) divided by the same model's accuracy there without noise (NaN when that is 0). */
export function normalised(levels: readonly CompletionScores[], s: number): number[] {
  const clean = levels[0].accuracy[s] ?? NaN;
  return levels.map((l) => (clean > 0 ? (l.accuracy[s] ?? NaN) / clean : NaN));
}

/** Places SVG documents on a grid of `cols` columns under a common title. */
export function panelGrid(panels: string[], cols: number, width: number, height: number, title: string): string {
  const rows = Math.ceil(panels.length / cols);
  const W = cols * width, H = rows * height + 36;
  const placed = panels.map((svg, i) => svg.replace(/^<svg /, `<svg x="${(i % cols) * width}" y="${36 + Math.floor(i / cols) * height}" `));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="24" font-size="17" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`,
    ...placed,
    "</svg>",
  ].join("\n");
}

/** Fig. 3: normalised accuracy against the token-noise fraction, one panel per generation step. */
export function figure3(ev: CfgEval): string {
  const top = Math.max(1.1, ...[ev.R, ev.T].flatMap((m) => [0, 1, 2, 3].flatMap((s) => normalised(m.tokenNoise, s))).filter(Number.isFinite));
  const panels = [0, 1, 2, 3].map((s) => {
    const paper = (model: "R" | "T") => PAPER_TABLE7.map((r): [number, number] => [r.p, r[model][s] / PAPER_TABLE7[0][model][s]]);
    const ours = (levels: CompletionScores[]) => normalised(levels, s).map((v, i): [number, number] => [TOKEN_NOISE_LEVELS[i], v]);
    return lineChart({
      title: `Generation step ${s + 1}`, xLabel: "fraction of prompt terminals replaced", yLabel: "normalised accuracy", yRange: [0, Math.ceil(top * 10) / 10], width: 520, height: 340,
      series: [{ name: "R (ours)", points: ours(ev.R.tokenNoise) }, { name: "T (ours)", points: ours(ev.T.tokenNoise) }, { name: "R (paper)", points: paper("R") }, { name: "T (paper)", points: paper("T") }],
    });
  });
  return panelGrid(panels, 2, 520, 340, "Completion accuracy under input-token noise, normalised by each model's noise-free accuracy");
}

/** Table 4 as a figure: exact match of the final four tokens against σ. */
export function latentNoiseFigure(ev: CfgEval): string {
  const ours = (levels: CompletionScores[] | null) => (levels ?? []).map((l, i): [number, number] => [LATENT_NOISE_LEVELS[i], l.exactTail]);
  return lineChart({
    title: "Exact match of the final four tokens under latent noise", xLabel: "σ / largest element of the latent", yLabel: "exact match", yRange: [0, 1],
    series: [
      { name: "R (ours)", points: ours(ev.R.latentNoise) }, { name: "C (ours)", points: ours(ev.C.latentNoise) },
      { name: "R (paper)", points: PAPER_TABLE4.map((r) => [r.sigma, r.R]) }, { name: "C (paper)", points: PAPER_TABLE4.map((r) => [r.sigma, r.C]) },
    ],
  });
}

/** Grammaticality of completions against the token-noise fraction (Earley parser). */
export function grammarFigure(ev: CfgEval): string {
  const at = (levels: CompletionScores[], f: (s: CompletionScores) => number) => levels.map((l, i): [number, number] => [TOKEN_NOISE_LEVELS[i], f(l)]);
  const all8 = (s: CompletionScores) => s.valid[s.valid.length - 1] ?? NaN;
  return lineChart({
    title: "Grammatical completions under input-token noise", xLabel: "fraction of prompt terminals replaced", yLabel: "fraction valid", yRange: [0, 1],
    series: [
      { name: "R, all 8 tokens", points: at(ev.R.tokenNoise, all8) }, { name: "T, all 8 tokens", points: at(ev.T.tokenNoise, all8) },
      { name: "R, final 4", points: at(ev.R.tokenNoise, (s) => s.validTail) }, { name: "T, final 4", points: at(ev.T.tokenNoise, (s) => s.validTail) },
      { name: "C, final 4", points: at(ev.C.tokenNoise, (s) => s.validTail) },
      { name: "chance, all 8", points: TOKEN_NOISE_LEVELS.map((p): [number, number] => [p, all8(ev.chance)]) },
    ],
  });
}
