/** The paper's CFG numbers (arXiv 2512.19171 v3): Table 7 (token noise) and Table 4 (latent noise). */

/** Table 7: absolute accuracy at generation steps 1–4, per noise level, for T and R. */
export const PAPER_TABLE7: Array<{ p: number; T: number[]; R: number[] }> = [
  { p: 0.0, T: [0.9230, 0.9181, 0.6185, 0.6861], R: [0.9191, 0.7405, 0.5722, 0.6646] },
  { p: 0.05, T: [0.8748, 0.7867, 0.5281, 0.6140], R: [0.8506, 0.6703, 0.5242, 0.6130] },
  { p: 0.1, T: [0.7996, 0.6958, 0.4857, 0.5600], R: [0.7688, 0.6109, 0.4797, 0.5708] },
  { p: 0.15, T: [0.7543, 0.6273, 0.4514, 0.5273], R: [0.7256, 0.5678, 0.4581, 0.5451] },
  { p: 0.2, T: [0.7092, 0.5868, 0.4316, 0.5005], R: [0.6797, 0.5336, 0.4428, 0.5195] },
  { p: 0.25, T: [0.6742, 0.5643, 0.4129, 0.4704], R: [0.6426, 0.5021, 0.4152, 0.5039] },
  { p: 0.3, T: [0.6402, 0.5442, 0.4010, 0.4521], R: [0.6061, 0.4919, 0.4201, 0.4865] },
];

/** Table 4: exact match of the final four tokens under latent noise σ × max(h_t), R against C. */
export const PAPER_TABLE4: Array<{ sigma: number; R: number; C: number }> = [
  { sigma: 0, R: 0.4588, C: 0.3740 },
  { sigma: 0.05, R: 0.4681, C: 0.3688 },
  { sigma: 0.1, R: 0.4643, C: 0.3650 },
  { sigma: 0.15, R: 0.4468, C: 0.3629 },
];

/** The paper's Table 7 row at noise level p, if it has one. */
export function paperRow(p: number): { T: number[]; R: number[] } | undefined {
  return PAPER_TABLE7.find((r) => Math.abs(r.p - p) < 1e-9);
}
