/**
 * The paper's qualitative CFG claims as checks that can be run on its own numbers and on ours,
 * so the report can say plainly which ones our run reproduces.
 */
import type { CfgEval } from "./cfg-eval.js";
import { PAPER_TABLE4, PAPER_TABLE7 } from "./cfg-paper.js";

/** Accuracy per noise level (rows) and step 1–4 (columns), and exact match per σ. */
export interface ClaimInputs {
  T: number[][];
  R: number[][];
  latentR: number[];
  latentC: number[];
}

/** One claim: what it says, and whether it holds for the paper's numbers and for ours (null: a number it needs is undefined). */
export interface ClaimResult {
  claim: string;
  paper: boolean | null;
  ours: boolean | null;
  detail: string;
}

/** The paper's numbers in ClaimInputs form. */
export function paperInputs(): ClaimInputs {
  return { T: PAPER_TABLE7.map((r) => r.T), R: PAPER_TABLE7.map((r) => r.R), latentR: PAPER_TABLE4.map((r) => r.R), latentC: PAPER_TABLE4.map((r) => r.C) };
}

/** Our numbers in ClaimInputs form (steps 1–4). */
export function ourInputs(ev: CfgEval): ClaimInputs {
  const steps = (levels: CfgEval["T"]["tokenNoise"]) => levels.map((l) => l.accuracy.slice(0, 4).map((a) => a ?? NaN));
  return { T: steps(ev.T.tokenNoise), R: steps(ev.R.tokenNoise), latentR: (ev.R.latentNoise ?? []).map((l) => l.exactTail), latentC: (ev.C.latentNoise ?? []).map((l) => l.exactTail) };
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "–");

/** Normalised accuracy per level and step from absolute accuracies. */
function norm(rows: number[][]): number[][] {
  return rows.map((r) => r.map((a, s) => a / rows[0][s]));
}

/** Mean normalised accuracy over noisy levels (p > 0) for steps [from, to). */
function meanNorm(rows: number[][], from: number, to: number): number {
  const n = norm(rows).slice(1).flatMap((r) => r.slice(from, to));
  return n.reduce((a, b) => a + b, 0) / n.length;
}

/** Evaluates every claim on one set of numbers; `detail` shows the numbers it used. */
function evaluate(x: ClaimInputs): Array<{ holds: boolean | null; detail: string }> {
  return rawChecks(x).map((c) => ({ holds: c.uses.every(Number.isFinite) ? c.holds : null, detail: c.detail }));
}

function rawChecks(x: ClaimInputs): Array<{ holds: boolean; uses: number[]; detail: string }> {
  const last = x.T.length - 1;
  const nT = norm(x.T)[last], nR = norm(x.R)[last];
  const keptR = x.latentR[x.latentR.length - 1] / x.latentR[0];
  const [mR, mT] = [meanNorm(x.R, 0, 4), meanNorm(x.T, 0, 4)];
  const [c0, c1] = [x.latentC[0], x.latentC[x.latentC.length - 1]];
  return [
    { holds: x.T[0].every((t, s) => t >= x.R[0][s]), uses: [...x.T[0], ...x.R[0]], detail: `T ${x.T[0].map(f3).join("/")}, R ${x.R[0].map(f3).join("/")}` },
    { holds: [1, 2, 3].every((s) => nR[s] > nT[s]), uses: [1, 2, 3].flatMap((s) => [nR[s], nT[s]]), detail: `steps 2–4: R ${[1, 2, 3].map((s) => f3(nR[s])).join("/")}, T ${[1, 2, 3].map((s) => f3(nT[s])).join("/")}` },
    { holds: mR > mT, uses: [mR, mT], detail: `R ${f3(mR)}, T ${f3(mT)}` },
    { holds: x.latentR.every((r, i) => r > x.latentC[i]), uses: [...x.latentR, ...x.latentC], detail: `R ${x.latentR.map(f3).join("/")}, C ${x.latentC.map(f3).join("/")}` },
    { holds: keptR >= 0.95, uses: [keptR], detail: `R keeps ${f3(keptR)} of it` },
    { holds: c1 < c0, uses: [c0, c1], detail: `C ${f3(c0)} → ${f3(c1)}` },
  ];
}

const CLAIMS = [
  "Without noise, T is at least as accurate as R at every step 1–4",
  "At 30 % token noise, R keeps more of its accuracy than T (normalised) at steps 2–4",
  "Averaged over noise levels 5–30 % and steps 1–4, R's normalised accuracy is above T's",
  "Under latent noise, R's final-four exact match is above C's at every σ",
  "R's final-four exact match at σ = 0.15 is at least 95 % of its noise-free value",
  "C's final-four exact match is lower at σ = 0.15 than at σ = 0",
];

/** Every claim, checked on the paper's numbers and on ours. */
export function checkClaims(ev: CfgEval): ClaimResult[] {
  const paper = evaluate(paperInputs());
  const ours = evaluate(ourInputs(ev));
  return CLAIMS.map((claim, i) => ({ claim, paper: paper[i].holds, ours: ours[i].holds, detail: `ours: ${ours[i].detail}; paper: ${paper[i].detail}` }));
}
