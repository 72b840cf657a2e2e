/**
 * The tree as an SVG drawing: levels top to bottom, children in the order the edges list them,
 * the target ringed, the correct route in green and the route the Talker read in orange.
 * Leaves carry `data-node` so that a click can make one the target.
 */
import type { ParsedTree } from "../../src/data/tree.js";
import { escapeXml } from "../../src/report/svg.js";

/** Routes to draw over the tree (letters, root first). */
export interface TreeMarks {
  correct: readonly string[] | null;
  talker: readonly string[] | null;
}

const GAP = 42, LEVEL = 60, R = 14, PAD = 24;

/** The drawing of the part of `tree` reachable from its root. */
export function treeSvg(tree: ParsedTree, marks: TreeMarks): string {
  const pos = layout(tree);
  const width = Math.max(...[...pos.values()].map((p) => p.x)) + PAD + R;
  const height = Math.max(...[...pos.values()].map((p) => p.y)) + PAD + R;
  const edges: string[] = [], overlays: string[] = [], nodes: string[] = [];
  for (const [parent, kids] of tree.children) {
    for (const kid of kids) {
      const a = pos.get(parent), b = pos.get(kid);
      if (a && b) edges.push(line(a, b, "#9aa0a6", 1.5));
    }
  }
  overlays.push(...routeLines(marks.correct, pos, tree, "#009E73", 6, ""));
  overlays.push(...routeLines(marks.talker, pos, tree, "#E69F00", 3, ` stroke-dasharray="7 4"`));
  const onTalkerRoute = new Set(marks.talker ?? []);
  for (const [name, p] of pos) {
    const leaf = !tree.children.has(name);
    const fill = onTalkerRoute.has(name) ? "#fde2b8" : "#ffffff";
    const ring = name === tree.target ? `<circle cx="${p.x}" cy="${p.y}" r="${R + 4}" fill="none" stroke="#0072B2" stroke-width="2.5"/>` : "";
    const weight = name === tree.root ? ` font-weight="bold"` : "";
    nodes.push(`<g class="${leaf ? "node leaf" : "node"}" data-node="${escapeXml(name)}">${ring}<circle cx="${p.x}" cy="${p.y}" r="${R}" fill="${fill}" stroke="#333333" stroke-width="1.2"/><text x="${p.x}" y="${p.y + 4.5}" text-anchor="middle" font-size="13"${weight}>${escapeXml(name)}</text><title>${escapeXml(describe(name, tree, leaf))}</title></g>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="the tree">${edges.join("")}${overlays.join("")}${nodes.join("")}</svg>`;
}

/** Leaves side by side in edge order, each parent centred over its children. */
function layout(tree: ParsedTree): Map<string, { x: number; y: number }> {
  const pos = new Map<string, { x: number; y: number }>();
  let nextLeaf = 0;
  const place = (node: string, level: number): number => {
    if (pos.has(node) || level > 26) return pos.get(node)?.x ?? 0; // guards malformed input
    const kids = tree.children.get(node) ?? [];
    pos.set(node, { x: 0, y: PAD + R + level * LEVEL });
    const x = kids.length === 0 ? PAD + R + GAP * nextLeaf++ : kids.map((k) => place(k, level + 1)).reduce((a, b) => a + b, 0) / kids.length;
    pos.get(node)!.x = x;
    return x;
  };
  place(tree.root, 0);
  return pos;
}

function routeLines(route: readonly string[] | null, pos: Map<string, { x: number; y: number }>, tree: ParsedTree, color: string, width: number, extra: string): string[] {
  if (!route) return [];
  const out: string[] = [];
  for (let i = 1; i < route.length; i++) {
    const a = pos.get(route[i - 1]), b = pos.get(route[i]);
    // Only real edges: a Talker that names a non-child has left the tree, and nothing is drawn.
    if (a && b && (tree.children.get(route[i - 1]) ?? []).includes(route[i])) out.push(line(a, b, color, width, extra));
  }
  return out;
}

function line(a: { x: number; y: number }, b: { x: number; y: number }, color: string, width: number, extra = ""): string {
  return `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${color}" stroke-width="${width}" stroke-linecap="round"${extra}/>`;
}

function describe(name: string, tree: ParsedTree, leaf: boolean): string {
  if (name === tree.root) return `${name}: the root`;
  if (name === tree.target) return `${name}: the target`;
  return leaf ? `${name}: a leaf (click to make it the target)` : `${name}: an inner node`;
}
