/**
 * A routing problem written or edited by a person, checked before it reaches a model: the text
 * must describe a complete binary tree of the depth the model was trained on, and the target
 * must be one of its leaves, since the task is to route from the root to a leaf.
 */
import { exampleFromText, parseTree, type ParsedTree, type TreeExample } from "./tree.js";

/** The example for tree text `edges[ROOT]r[TARGET]t` (a route after `[ROUTE]` is ignored); throws one clear message. */
export function treeProblemFromText(text: string, depth: number): TreeExample {
  const prompt = text.replace(/\s+/g, "").toUpperCase().replace(/\[ROUTE\].*$/, "");
  if (prompt === "") throw new Error("the tree is empty: write its edges, e.g. NL,NO,LJ,..., then [ROOT]N[TARGET]K");
  const tree = parse(prompt);
  const nodes = new Set(tree.edges.flat());
  if (!nodes.has(tree.target)) throw new Error(`the target ${tree.target} is not a node of the tree`);
  const kids = tree.children.get(tree.target);
  if (kids) throw new Error(`the target ${tree.target} is not a leaf (its children are ${kids.join(" and ")}): a route must end at a leaf`);
  checkShape(tree, nodes, depth);
  return exampleFromText(`${prompt}[ROUTE]`);
}

function parse(prompt: string): ParsedTree {
  try {
    return parseTree(prompt);
  } catch (err) {
    const message = (err as Error).message.replace(/^parseTree: /, "");
    if (message.startsWith("malformed")) throw new Error("the tree text is malformed: write its edges as letter pairs (parent, child) separated by commas, then [ROOT]x[TARGET]y");
    throw new Error(`the tree is not a tree: ${message}`);
  }
}

/** Every node is reached from the root, has 0 or 2 children, and every leaf lies at `depth` levels. */
function checkShape(tree: ParsedTree, nodes: Set<string>, depth: number): void {
  const shape = `a complete binary tree of depth ${depth} (${2 ** depth - 1} nodes), the shape the model was trained on`;
  if (!nodes.has(tree.root)) throw new Error(`the root ${tree.root} is not a node of the tree`);
  if (tree.parent.has(tree.root)) throw new Error(`the root ${tree.root} has a parent (${tree.parent.get(tree.root)})`);
  const level = new Map([[tree.root, 1]]);
  for (const [node, at] of level) {
    const kids = tree.children.get(node) ?? [];
    if (kids.length !== 0 && kids.length !== 2) throw new Error(`the tree must be ${shape}: node ${node} has ${kids.length} children`);
    if (kids.length === 0 && at !== depth) throw new Error(`the tree must be ${shape}: leaf ${node} is on level ${at}`);
    for (const k of kids) level.set(k, at + 1);
  }
  const stray = [...nodes].find((n) => !level.has(n));
  if (stray) throw new Error(`node ${stray} is not connected to the root ${tree.root}`);
}
