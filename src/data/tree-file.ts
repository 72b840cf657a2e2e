/**
 * Routing problems read from JSON Lines, one `{"text": ...}` per line in the paper's format: the
 * prompt alone (`edges[ROOT]r[TARGET]t[ROUTE]`) or a whole problem with its route, which must
 * then be the correct one. Every line must be a tree the run can route (its depth, letters from
 * its alphabet); anything else is one error naming the file and line, so no tree is scored
 * silently wrong or skipped.
 */
import { jsonlRows } from "./jsonl.js";
import { parseTree, type TreeExample } from "./tree.js";
import { treeProblemFromText } from "./tree-problem.js";

/** The trees a run routes: their depth and the first `alphabetSize` letters their nodes are named by. */
export interface TreeShape {
  depth: number;
  alphabetSize: number;
}

/** One problem of the file, with its line number. */
export interface TreeFileRow {
  line: number;
  example: TreeExample;
}

/** Parses a JSONL file's text of tree problems; throws one line `source:line: why` on the first bad line. */
export function parseTreeJsonl(text: string, source: string, shape: TreeShape): TreeFileRow[] {
  // The JSONL reader names no line for an empty file; the first tree belonged on line 1.
  if (text.trim() === "") throw new Error(`${source}:1: the file is empty; expected one {"text": ...} tree per line`);
  return jsonlRows(text, source).map(({ value, line }) => {
    if (typeof value.text !== "string") throw new Error(`${source}:${line}: needs "text", a tree in the paper's format (edges[ROOT]r[TARGET]t[ROUTE]route)`);
    try {
      return { line, example: treeFromText(value.text, shape) };
    } catch (err) {
      throw new Error(`${source}:${line}: ${(err as Error).message}`);
    }
  });
}

/** The example of one line's text, checked against the run's shape; a route, if given, must be right. */
export function treeFromText(text: string, shape: TreeShape): TreeExample {
  const example = treeProblemFromText(text, shape.depth);
  const alphabet = String.fromCharCode(65 + shape.alphabetSize - 1);
  const stray = example.edges.flat().find((n) => n.charCodeAt(0) - 65 >= shape.alphabetSize);
  if (stray) throw new Error(`node ${stray} is outside the run's alphabet A–${alphabet}: the model never saw that letter name a node`);
  const written = writtenRoute(text);
  if (written !== "" && written !== example.route.join("")) {
    throw new Error(`the route ${written} is wrong: the route from ${example.root} to ${example.target} is ${example.route.join("")}`);
  }
  return example;
}

/** The route written after `[ROUTE]` ("" when none), normalised as treeProblemFromText reads the prompt. */
function writtenRoute(text: string): string {
  const clean = text.replace(/\s+/g, "").toUpperCase();
  if (!clean.includes("[ROUTE]")) return "";
  try {
    return parseTree(clean.replace(/<(END|PAD)>/g, (m) => m.toLowerCase())).route.join("");
  } catch {
    throw new Error("the text after [ROUTE] is not a route: write nothing there, or the route's letters");
  }
}
