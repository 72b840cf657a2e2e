/**
 * The tree-search task of the paper (App. A): find the route from the root of a random
 * complete binary tree to a given leaf.
 *
 * Text format (one line, no spaces), e.g. the paper's example
 *   NL,NO,LJ,LI,OA,OM,JB,JH,IG,IF,AD,AE,MK,MC[ROOT]N[TARGET]K[ROUTE]NOMK
 * Edge order convention, read off that example: nodes are laid out in heap order
 * (root = 0, children of i = 2i+1, 2i+2) and the edges list each internal node's two
 * children, parents taken breadth-first, level by level (N; L, O; J, I, A, M). A parent's
 * first child listed also comes first among the next level's parents (LJ,LI before OA,OM;
 * JB,JH before IG,IF). Names are a random draw of distinct letters assigned to heap slots,
 * so which child comes first is random. `shuffleEdges` lists the same edges in random order.
 *
 * Split disjointness: each split draws from its own seed stream (FNV-1a hash of
 * `${seed}/${split}`), and `treeKey` names a problem independently of edge order, so
 * `excludeKeys` (or `generateSplits`) can drop any val/test problem that also occurs in train.
 * The "fresh" stream belongs to no split: generalisation checks draw unseen trees from it.
 */
import { Rng } from "../engine/rng.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const MARKERS = ["[ROOT]", "[TARGET]", "[ROUTE]"] as const;

/** The tree vocabulary: id 0 `<pad>`, 1 `<end>`, 2..27 letters A–Z, 28 `,`, 29–31 markers. */
export const TREE_VOCAB: readonly string[] = ["<pad>", "<end>", ...LETTERS, ",", ...MARKERS];
/** Id of `<pad>`. */
export const TREE_PAD_ID = 0;
/** Id of `<end>`, which follows the route. */
export const TREE_END_ID = 1;
/** Ids of the 26 letters, in alphabetical order (candidate set for the plane analysis). */
export const TREE_LETTER_IDS: readonly number[] = Array.from(LETTERS, (_, i) => i + 2);

/**
 * What every checkpoint of a tree run records in its config.json under `tree`: the token
 * strings by id, the alphabet its node names are drawn from (the first `alphabetSize` letters)
 * and the depth, so that a reader needs no source code to tokenise a tree.
 */
export interface TreeTaskRecord {
  vocab: string[];
  alphabetSize: number;
  depth: number;
}

/** The `tree` record of a run's checkpoints. */
export function treeTaskRecord(depth: number, alphabetSize: number): TreeTaskRecord {
  return { vocab: [...TREE_VOCAB], alphabetSize, depth };
}

const TOKEN_ID = new Map(TREE_VOCAB.map((t, i) => [t, i]));
const ROUTE_ID = TOKEN_ID.get("[ROUTE]")!;

/** Id of a single capital letter. */
export function letterId(letter: string): number {
  const id = TOKEN_ID.get(letter);
  if (letter.length !== 1 || id === undefined || id < 2 || id > 27) throw new Error(`not a node letter: '${letter}'`);
  return id;
}

/** Tokenises tree text; multi-character tokens (`[ROOT]`, `<end>`, ...) are single tokens. */
export function encodeTree(text: string): number[] {
  const ids: number[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const close = ch === "[" ? "]" : ch === "<" ? ">" : null;
    const end = close ? text.indexOf(close, i) : i;
    const piece = close && end > i ? text.slice(i, end + 1) : ch;
    const id = TOKEN_ID.get(piece);
    if (id === undefined) throw new Error(`encodeTree: unknown token '${piece}' at character position ${i}`);
    ids.push(id);
    i += piece.length;
  }
  return ids;
}

/** Joins token ids back into text (`<pad>`/`<end>` are written out literally). */
export function decodeTree(ids: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < ids.length; i++) {
    const tok = TREE_VOCAB[ids[i]];
    if (!Number.isInteger(ids[i]) || tok === undefined) throw new Error(`decodeTree: unknown token id ${ids[i]} at position ${i}`);
    out += tok;
  }
  return out;
}

/** One generated problem with its answer. */
export interface TreeExample {
  text: string;
  /** encodeTree(text) followed by `<end>`. */
  tokens: number[];
  /** Index in `tokens` of the first route token (the root letter after `[ROUTE]`). */
  routeStart: number;
  route: string[];
  /** For each branching step along the route, the current node's two children: [correct, other]. */
  siblings: Array<[string, string]>;
  /** Number of levels (4 → 15 nodes). */
  depth: number;
  root: string;
  target: string;
  /** Parent→child edges in the order they appear in the text. */
  edges: Array<[string, string]>;
}

/** A tree problem parsed back from text. */
export interface ParsedTree {
  edges: Array<[string, string]>;
  root: string;
  target: string;
  /** Route as written after `[ROUTE]` (empty when the text stops at `[ROUTE]` or before). */
  route: string[];
  children: Map<string, string[]>;
  parent: Map<string, string>;
}

/** Parses `edges[ROOT]r[TARGET]t[ROUTE]route` (route optional, trailing `<end>`/`<pad>` ignored). */
export function parseTree(text: string): ParsedTree {
  const clean = text.replace(/(<end>|<pad>)+$/, "");
  const m = /^([A-Z]{2}(?:,[A-Z]{2})*)\[ROOT\]([A-Z])\[TARGET\]([A-Z])(?:\[ROUTE\]([A-Z]*))?$/.exec(clean);
  if (!m) throw new Error(`parseTree: malformed tree text '${text}'`);
  const edges = m[1].split(",").map((e) => [e[0], e[1]] as [string, string]);
  const children = new Map<string, string[]>();
  const parent = new Map<string, string>();
  for (const [p, c] of edges) {
    if (parent.has(c)) throw new Error(`parseTree: node ${c} has two parents (${parent.get(c)}, ${p})`);
    parent.set(c, p);
    children.set(p, [...(children.get(p) ?? []), c]);
  }
  return { edges, root: m[2], target: m[3], route: m[4] ? [...m[4]] : [], children, parent };
}

/** The correct root-to-target route of a parsed tree (follows parent links up from the target). */
export function routeOf(tree: Pick<ParsedTree, "root" | "target" | "parent">): string[] {
  const route = [tree.target];
  while (route[0] !== tree.root) {
    const p = tree.parent.get(route[0]);
    if (p === undefined || route.length > 26) throw new Error(`routeOf: no path from ${tree.root} to ${tree.target}`);
    route.unshift(p);
  }
  return route;
}

/** For each step of a route, the current node's children as [next on route, the other child]. */
export function siblingsOf(children: Map<string, string[]>, route: readonly string[]): Array<[string, string]> {
  return route.slice(0, -1).map((node, i) => {
    const kids = children.get(node) ?? [];
    const other = kids.find((k) => k !== route[i + 1]);
    if (kids.length !== 2 || other === undefined || !kids.includes(route[i + 1])) {
      throw new Error(`siblingsOf: ${node} does not have two children including ${route[i + 1]}`);
    }
    return [route[i + 1], other];
  });
}

/** Canonical problem key: sorted edge set + root + target, so edge order does not matter. */
export function treeKey(example: Pick<TreeExample, "edges" | "root" | "target">): string {
  const edges = example.edges.map(([p, c]) => p + c).sort();
  return `${edges.join(",")}|${example.root}|${example.target}`;
}

/** Options of the tree generator. */
export interface TreeOptions {
  /** Levels, root included (default 4 → 15 nodes). 2^depth − 1 must fit the alphabet. */
  depth?: number;
  /** List edges in random order instead of breadth-first (harder generalisation test). */
  shuffleEdges?: boolean;
  /** Draw names from the first n letters (default 26; 15 reproduces the paper's A–O example). */
  alphabetSize?: number;
}

/** Builds one example from a tree drawn with `rng`. */
export function generateTree(rng: Rng, options: TreeOptions = {}): TreeExample {
  const depth = options.depth ?? 4;
  const alphabetSize = options.alphabetSize ?? 26;
  if (!Number.isInteger(alphabetSize) || alphabetSize < 3 || alphabetSize > 26) {
    throw new Error(`tree alphabetSize must be an integer in 3..26, got ${alphabetSize}`);
  }
  if (!Number.isInteger(depth) || depth < 2) throw new Error(`tree depth must be an integer ≥ 2, got ${depth}`);
  const nodeCount = 2 ** depth - 1;
  if (nodeCount > alphabetSize) {
    throw new Error(`tree depth ${depth} needs ${nodeCount} distinct node names but only ${alphabetSize} letters are available`);
  }
  const names = rng.shuffle([...LETTERS.slice(0, alphabetSize)]).slice(0, nodeCount);
  const edges: Array<[string, string]> = [];
  for (let i = 0; 2 * i + 2 < nodeCount; i++) edges.push([names[i], names[2 * i + 1]], [names[i], names[2 * i + 2]]);
  if (options.shuffleEdges) rng.shuffle(edges);
  const firstLeaf = (nodeCount - 1) / 2;
  const root = names[0];
  const target = names[firstLeaf + rng.int(nodeCount - firstLeaf)];
  return buildExample(edges, root, target, depth);
}

function buildExample(edges: Array<[string, string]>, root: string, target: string, depth: number): TreeExample {
  const prompt = `${edges.map(([p, c]) => p + c).join(",")}[ROOT]${root}[TARGET]${target}[ROUTE]`;
  const tree = parseTree(prompt);
  const route = routeOf(tree);
  const text = prompt + route.join("");
  const tokens = [...encodeTree(text), TREE_END_ID];
  const routeStart = tokens.indexOf(ROUTE_ID) + 1;
  return { text, tokens, routeStart, route, siblings: siblingsOf(tree.children, route), depth, root, target, edges };
}

/** Rebuilds a full example (tokens, route, siblings) from tree text; its route, if any, must be correct. */
export function exampleFromText(text: string): TreeExample {
  const tree = parseTree(text);
  const ex = buildExample(tree.edges, tree.root, tree.target, routeOf(tree).length);
  if (tree.route.length > 0 && tree.route.join("") !== ex.route.join("")) {
    throw new Error(`exampleFromText: route ${tree.route.join("")} is wrong, expected ${ex.route.join("")}`);
  }
  return ex;
}

/** A dataset split. */
export type TreeSplit = "train" | "val" | "test";
/** A seed stream: a split, or "fresh", which no split draws from (trees for generalisation checks). */
export type TreeStream = TreeSplit | "fresh";

/** Options of generateSplit. */
export interface SplitOptions extends TreeOptions {
  seed: number;
  /** Problems (treeKey) to skip; skipped draws are replaced, so `count` is still met. */
  excludeKeys?: ReadonlySet<string>;
}

/** Seed of a split's own stream: FNV-1a of `${seed}/${split}`, so splits never share a stream. */
export function splitSeed(seed: number, split: TreeStream): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${split}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** `count` examples of one split, deterministic in (seed, split, options). */
export function generateSplit(split: TreeStream, count: number, options: SplitOptions): TreeExample[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`generateSplit: count must be a non-negative integer, got ${count}`);
  const rng = new Rng(splitSeed(options.seed, split));
  const out: TreeExample[] = [];
  // Guards against an exclusion set that covers (almost) the whole problem space.
  const maxDraws = 100 * count + 1000;
  for (let draws = 0; out.length < count; draws++) {
    if (draws >= maxDraws) throw new Error(`generateSplit: only ${out.length} of ${count} ${split} trees avoid excludeKeys after ${draws} draws`);
    const ex = generateTree(rng, options);
    if (!options.excludeKeys?.has(treeKey(ex))) out.push(ex);
  }
  return out;
}

/** All three splits; val excludes train problems, test excludes train and val problems. */
export function generateSplits(
  counts: { train: number; val: number; test: number },
  options: TreeOptions & { seed: number },
): Record<TreeSplit, TreeExample[]> {
  const train = generateSplit("train", counts.train, options);
  const seen = new Set(train.map(treeKey));
  const val = generateSplit("val", counts.val, { ...options, excludeKeys: seen });
  const seenTest = new Set([...seen, ...val.map(treeKey)]);
  const test = generateSplit("test", counts.test, { ...options, excludeKeys: seenTest });
  return { train, val, test };
}

/** A padded batch: row-major B×T token ids and next-token targets (−1 = no loss). */
export interface TreeBatch {
  inputs: Int32Array;
  targets: Int32Array;
}

/**
 * Pads examples to `length`. Target at position t is token t+1 (−1 where there is no loss).
 * lossFrom "all": every position whose next token is a real (non-pad) token.
 * lossFrom "route" (default): only positions whose NEXT token is a route token or `<end>`,
 * i.e. t = routeStart−1 … tokens.length−2; `includeEnd: false` also drops the `<end>` target.
 */
export function padBatch(
  examples: readonly Pick<TreeExample, "tokens" | "routeStart">[],
  length: number,
  padId = TREE_PAD_ID,
  options: { lossFrom?: "route" | "all"; includeEnd?: boolean } = {},
): TreeBatch {
  const lossFrom = options.lossFrom ?? "route";
  const inputs = new Int32Array(examples.length * length).fill(padId);
  const targets = new Int32Array(examples.length * length).fill(-1);
  examples.forEach((ex, b) => {
    const toks = ex.tokens;
    if (toks.length > length) throw new Error(`padBatch: example ${b} has ${toks.length} tokens, more than length ${length}`);
    inputs.set(toks, b * length);
    const from = lossFrom === "route" ? ex.routeStart - 1 : 0;
    const to = options.includeEnd === false ? toks.length - 2 : toks.length - 1;
    for (let t = Math.max(0, from); t < to; t++) targets[b * length + t] = toks[t + 1];
  });
  return { inputs, targets };
}
