/**
 * Dependency-free SVG figures for the reports: line chart, scatter plot, grouped bars and a
 * one-row heat strip. Output is a standalone SVG string, deterministic for a given input
 * (coordinates rounded to 0.01 px, no ids from counters or clocks), with all text XML-escaped.
 */

/** Okabe–Ito colour-blind-safe palette; yellow last because it is faint on white. */
export const PALETTE: readonly string[] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

const FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";

/** Size shared by all figures (default 640×400; heatStrip defaults to 640×220). */
export interface FigureSize {
  width?: number;
  height?: number;
}

/** Options of lineChart. */
export interface LineChartOptions extends FigureSize {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
  yRange?: [number, number];
  /** Logarithmic x axis (all x must be > 0). */
  xLog?: boolean;
}

/** Options of scatterPlot. */
export interface ScatterOptions extends FigureSize {
  title: string;
  xLabel: string;
  yLabel: string;
  groups: Array<{
    name: string;
    points: Array<{ x: number; y: number; label?: string }>;
    color?: string;
    marker?: "circle" | "diamond";
    /** Draw a polyline through the points in order with arrowheads (a latent trajectory). */
    connect?: boolean;
  }>;
}

/** Options of barChart. */
export interface BarChartOptions extends FigureSize {
  title: string;
  xLabel?: string;
  yLabel: string;
  categories: string[];
  /** One bar per category per series; values[i] belongs to categories[i]. */
  series: Array<{ name: string; values: number[] }>;
  yRange?: [number, number];
}

/** Options of heatStrip. */
export interface HeatStripOptions extends FigureSize {
  title: string;
  labels: string[];
  values: number[];
  /** Colour range; default [min, max] of the values. A range straddling 0 uses a diverging scale. */
  range?: [number, number];
  /** Write each value inside its cell (default: when cells are at least 28 px wide). */
  showValues?: boolean;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Round, readable tick values covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceTicks: non-finite range [${lo}, ${hi}]`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) [lo, hi] = lo === 0 ? [-1, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
  const step = niceStep((hi - lo) / count);
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  return Array.from({ length: last - first + 1 }, (_, i) => cleanZero(roundTo((first + i) * step, step)));
}

function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

function roundTo(v: number, step: number): number {
  const dec = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(dec, 20)));
}

const cleanZero = (v: number) => (Object.is(v, -0) ? 0 : v);

/** Short numeric label: up to 4 significant digits, no trailing zeros. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(1).replace("e+", "e");
  return String(cleanZero(Number(v.toPrecision(4))));
}

const n2 = (v: number) => String(cleanZero(Math.round(v * 100) / 100));

interface Scale {
  ticks: number[];
  map(v: number): number;
}

function linearScale(lo: number, hi: number, p0: number, p1: number, fixed = false): Scale {
  const ticks = niceTicks(lo, hi);
  const [a, b] = fixed && hi > lo ? [lo, hi] : [ticks[0], ticks[ticks.length - 1]];
  return { ticks: ticks.filter((t) => t >= a - 1e-12 && t <= b + 1e-12), map: (v) => p0 + ((v - a) / (b - a)) * (p1 - p0) };
}

function logScale(lo: number, hi: number, p0: number, p1: number): Scale {
  if (!(lo > 0)) throw new Error(`log axis needs positive values, got minimum ${lo}`);
  const a = Math.floor(Math.log10(lo)), b = Math.max(Math.ceil(Math.log10(hi)), a + 1);
  const ticks = Array.from({ length: b - a + 1 }, (_, i) => 10 ** (a + i));
  return { ticks, map: (v) => p0 + ((Math.log10(v) - a) / (b - a)) * (p1 - p0) };
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(size: FigureSize, legend: boolean, defaults: [number, number] = [640, 400]): Frame {
  const width = size.width ?? defaults[0], height = size.height ?? defaults[1];
  if (!(width >= 200 && height >= 120)) throw new Error(`figure size ${width}×${height} is too small (min 200×120)`);
  return { width, height, left: 64, right: width - (legend ? 150 : 20), top: 40, bottom: height - 52 };
}

function svgDocument(f: Frame, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="${FONT}" font-size="12">`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    text(f.width / 2, 24, title, { size: 16, anchor: "middle", weight: "bold" }),
    ...body,
    "</svg>",
  ].join("\n");
}

function text(x: number, y: number, s: string, o: { size?: number; anchor?: string; weight?: string; rotate?: number; fill?: string } = {}): string {
  const attrs = [`x="${n2(x)}"`, `y="${n2(y)}"`];
  if (o.size) attrs.push(`font-size="${o.size}"`);
  if (o.anchor) attrs.push(`text-anchor="${o.anchor}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.fill) attrs.push(`fill="${o.fill}"`);
  if (o.rotate) attrs.push(`transform="rotate(${o.rotate} ${n2(x)} ${n2(y)})"`);
  return `<text ${attrs.join(" ")}>${escapeXml(s)}</text>`;
}

function axes(f: Frame, xs: Scale | null, ys: Scale, xLabel: string, yLabel: string, xFmt = formatNumber): string[] {
  const out: string[] = [];
  for (const t of ys.ticks) {
    const y = n2(ys.map(t));
    out.push(`<line x1="${f.left}" y1="${y}" x2="${f.right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(text(f.left - 6, ys.map(t) + 4, formatNumber(t), { anchor: "end", size: 11 }));
  }
  for (const t of xs?.ticks ?? []) {
    const x = n2(xs!.map(t));
    out.push(`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${f.bottom}" stroke="#f0f0f0"/>`);
    out.push(text(xs!.map(t), f.bottom + 16, xFmt(t), { anchor: "middle", size: 11 }));
  }
  out.push(`<path d="M${f.left},${f.top}V${f.bottom}H${f.right}" fill="none" stroke="#333333"/>`);
  if (xLabel) out.push(text((f.left + f.right) / 2, f.height - 12, xLabel, { anchor: "middle" }));
  const midY = (f.top + f.bottom) / 2;
  out.push(text(16, midY, yLabel, { anchor: "middle", rotate: -90 }));
  return out;
}

function legend(f: Frame, items: Array<{ name: string; color: string }>): string[] {
  return items.flatMap((it, i) => {
    const y = f.top + 8 + i * 18;
    return [`<rect x="${f.right + 12}" y="${y - 9}" width="12" height="12" fill="${it.color}"/>`, text(f.right + 30, y + 1, it.name, { size: 11 })];
  });
}

function extent(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  return finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
}

function padded([lo, hi]: [number, number]): [number, number] {
  const m = (hi - lo) * 0.05;
  return [lo - m, hi + m];
}

const colorAt = (i: number, given?: string) => given ?? PALETTE[i % PALETTE.length];

/** Multi-series line chart; non-finite y values break a line. */
export function lineChart(o: LineChartOptions): string {
  const f = frame(o, true);
  const all = o.series.flatMap((s) => s.points);
  const [x0, x1] = extent(all.map((p) => p[0]));
  const [y0, y1] = o.yRange ?? extent(all.map((p) => p[1]));
  const xs = o.xLog ? logScale(x0, x1, f.left, f.right) : linearScale(x0, x1, f.left, f.right);
  const ys = linearScale(y0, y1, f.bottom, f.top, o.yRange !== undefined);
  const body = axes(f, xs, ys, o.xLabel, o.yLabel);
  o.series.forEach((s, i) => {
    const color = colorAt(i);
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) runs[runs.length - 1].push(`${n2(xs.map(x))},${n2(ys.map(y))}`);
      else if (runs[runs.length - 1].length) runs.push([]);
    }
    for (const run of runs.filter((r) => r.length)) {
      body.push(`<polyline points="${run.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
      if (s.points.length <= 60) for (const p of run) body.push(`<circle cx="${p.split(",")[0]}" cy="${p.split(",")[1]}" r="2.5" fill="${color}"/>`);
    }
  });
  body.push(...legend(f, o.series.map((s, i) => ({ name: s.name, color: colorAt(i) }))));
  return svgDocument(f, o.title, body);
}

/** Scatter plot with optional point labels and arrowed trajectories. */
export function scatterPlot(o: ScatterOptions): string {
  const f = frame(o, true);
  const all = o.groups.flatMap((g) => g.points);
  // A 5% margin keeps points and their labels off the axes.
  const xs = linearScale(...padded(extent(all.map((p) => p.x))), f.left, f.right);
  const ys = linearScale(...padded(extent(all.map((p) => p.y))), f.bottom, f.top);
  const body = axes(f, xs, ys, o.xLabel, o.yLabel);
  const defs: string[] = [];
  const idBase = `arrow-${hash(o.title)}`;
  o.groups.forEach((g, i) => {
    const color = colorAt(i, g.color);
    const pts = g.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => ({ ...p, px: xs.map(p.x), py: ys.map(p.y) }));
    if (g.connect && pts.length > 1) {
      const id = `${idBase}-${i}`;
      defs.push(`<marker id="${id}" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="${escapeXml(color)}"/></marker>`);
      // Arrowheads sit at segment midpoints, where the point markers cannot hide them.
      pts.slice(1).forEach((p, k) => {
        const q = pts[k];
        const d = `M${n2(q.px)},${n2(q.py)}L${n2((q.px + p.px) / 2)},${n2((q.py + p.py) / 2)}L${n2(p.px)},${n2(p.py)}`;
        body.push(`<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="1.5" marker-mid="url(#${id})"/>`);
      });
    }
    for (const p of pts) {
      body.push(markerShape(g.marker ?? "circle", p.px, p.py, escapeXml(color)));
      if (p.label !== undefined) body.push(text(p.px + 5, p.py - 5, p.label, { size: 10, fill: "#222222" }));
    }
  });
  body.push(...legend(f, o.groups.map((g, i) => ({ name: g.name, color: escapeXml(colorAt(i, g.color)) }))));
  return svgDocument(f, o.title, defs.length ? [`<defs>${defs.join("")}</defs>`, ...body] : body);
}

function markerShape(kind: "circle" | "diamond", x: number, y: number, color: string): string {
  if (kind === "diamond") return `<path d="M${n2(x)},${n2(y - 5)}L${n2(x + 5)},${n2(y)}L${n2(x)},${n2(y + 5)}L${n2(x - 5)},${n2(y)}z" fill="${color}"/>`;
  return `<circle cx="${n2(x)}" cy="${n2(y)}" r="3.5" fill="${color}" fill-opacity="0.8"/>`;
}

/** Grouped bar chart: one group per category, one bar per series. */
export function barChart(o: BarChartOptions): string {
  o.series.forEach((s) => {
    if (s.values.length !== o.categories.length) throw new Error(`barChart: series '${s.name}' has ${s.values.length} values for ${o.categories.length} categories`);
  });
  const f = frame(o, true);
  const [v0, v1] = extent(o.series.flatMap((s) => s.values));
  const [y0, y1] = o.yRange ?? [Math.min(0, v0), Math.max(0, v1)];
  const ys = linearScale(y0, y1, f.bottom, f.top, o.yRange !== undefined);
  const body = axes(f, null, ys, o.xLabel ?? "", o.yLabel);
  const groupW = (f.right - f.left) / Math.max(1, o.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, o.series.length);
  const rotate = groupW < 40;
  o.categories.forEach((cat, c) => {
    const gx = f.left + c * groupW + groupW * 0.1;
    o.series.forEach((s, i) => {
      const v = s.values[c];
      if (!Number.isFinite(v)) return;
      const clamp = (y: number) => Math.min(f.bottom, Math.max(f.top, y));
      const ya = clamp(ys.map(v)), yb = clamp(ys.map(Math.max(y0, Math.min(0, y1))));
      body.push(`<rect x="${n2(gx + i * barW)}" y="${n2(Math.min(ya, yb))}" width="${n2(barW * 0.95)}" height="${n2(Math.abs(yb - ya))}" fill="${colorAt(i)}"><title>${escapeXml(`${s.name}, ${cat}: ${formatNumber(v)}`)}</title></rect>`);
    });
    const cx = f.left + (c + 0.5) * groupW;
    body.push(text(cx, f.bottom + 16, cat, rotate ? { size: 10, anchor: "end", rotate: -45 } : { size: 11, anchor: "middle" }));
  });
  body.push(...legend(f, o.series.map((s, i) => ({ name: s.name, color: colorAt(i) }))));
  return svgDocument(f, o.title, body);
}

/** One row of coloured cells (e.g. cosine of a latent to every vocabulary embedding). */
export function heatStrip(o: HeatStripOptions): string {
  if (o.labels.length !== o.values.length) throw new Error(`heatStrip: ${o.labels.length} labels for ${o.values.length} values`);
  const f = frame(o, false, [640, 220]);
  const [lo, hi] = o.range ?? extent(o.values);
  const colour = lo < 0 && hi > 0 ? diverging(Math.max(-lo, hi)) : sequential(lo, hi);
  const cellW = (f.right - f.left) / Math.max(1, o.values.length);
  const cellH = Math.min(48, (f.bottom - f.top) / 2);
  const y = f.top + 10;
  const show = o.showValues ?? cellW >= 28;
  const body: string[] = [];
  o.values.forEach((v, i) => {
    const x = f.left + i * cellW;
    const fill = Number.isFinite(v) ? colour(v) : "#cccccc";
    body.push(`<rect x="${n2(x)}" y="${y}" width="${n2(cellW)}" height="${n2(cellH)}" fill="${fill}" stroke="#ffffff"><title>${escapeXml(`${o.labels[i]}: ${formatNumber(v)}`)}</title></rect>`);
    if (show) body.push(text(x + cellW / 2, y + cellH / 2 + 4, formatNumber(v), { size: 9, anchor: "middle", fill: textOn(fill) }));
    const rot = cellW < 18 || o.labels[i].length * 7 > cellW;
    body.push(text(x + cellW / 2, y + cellH + 14, o.labels[i], rot ? { size: 10, anchor: "end", rotate: -60 } : { size: 11, anchor: "middle" }));
  });
  const ly = f.bottom + 20;
  for (let i = 0; i < 20; i++) {
    body.push(`<rect x="${n2(f.left + i * 8)}" y="${ly}" width="8" height="10" fill="${colour(lo + ((hi - lo) * (i + 0.5)) / 20)}"/>`);
  }
  body.push(text(f.left - 4, ly + 9, formatNumber(lo), { size: 10, anchor: "end" }), text(f.left + 164, ly + 9, formatNumber(hi), { size: 10 }));
  return svgDocument(f, o.title, body);
}

type Rgb = [number, number, number];

function mix(stops: Rgb[], t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const w = u - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * w));
  return `#${c.map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** Blue–white–red, symmetric about 0. */
function diverging(maxAbs: number): (v: number) => string {
  const stops: Rgb[] = [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]];
  return (v) => mix(stops, (v / maxAbs + 1) / 2);
}

/** Viridis-like, low = dark purple, high = yellow. */
function sequential(lo: number, hi: number): (v: number) => string {
  const stops: Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  return (v) => mix(stops, hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

function textOn(fill: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(fill.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000000" : "#ffffff";
}

function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}
