/** `jepa tree eval`: scores a finished tree run on a JSON Lines file of trees, or on fresh trees. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createNodeEngine } from "../engine/node.js";
import { decodeUtf8Lines } from "../data/jsonl.js";
import { decodeTree, type TreeExample } from "../data/tree.js";
import { parseTreeJsonl } from "../data/tree-file.js";
import { byTargetEdgeText, evaluateModels, type ModelsEval, type RouteScores } from "../experiments/tree-eval.js";
import { freshTrees, GENERALISATION_TREES, runKeys, runSplits } from "../experiments/tree-generalisation.js";
import { loadTreeRunModels, readTreeRun, type TreeRunFiles } from "../experiments/tree-run.js";
import { writeFileAtomic } from "../train/atomic.js";
import { isCheckpoint } from "../train/checkpoint.js";
import { intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { checkOutputFile, markedCommand } from "./output-guard.js";
import { isTreeEvalFile, TREE_EVAL_MARK } from "./own-outputs.js";
import { engineOptionsFromFlags, requireFlag } from "./train-flags.js";

/** Help text of `jepa tree eval`. */
export const TREE_EVAL_HELP = `usage: jepa tree eval --run DIR (--data FILE | [--count N] [--seed S] [--shuffle-edges]) [flags]

Scores a finished \`jepa tree\` run: exact match and accuracy at each route position of the
JEPA-Reasoner + Mono-Talker (talker/) and of the coupled Transformer T (baseline/, when the run
has one), greedy, as the run's own evaluation scores them.

With --data, the trees are a JSON Lines file, one {"text": ...} per line in the paper's format:
the prompt (NL,NO,...,MC[ROOT]N[TARGET]K[ROUTE]) or the whole problem with its route, which must
then be correct. Every line must be a complete binary tree of the run's depth named with letters
of its alphabet; the first line that is not stops the command with an error naming it.
Without --data, N fresh trees are drawn from a seed stream no split of the run uses, leaving out
every problem of its training, validation and test splits (in any edge order): the
generalisation check. The defaults score the same trees as the report's Generalisation section.

flags:
  --run DIR         the tree run (required)
  --data FILE       trees to score, JSON Lines
  --count N         fresh trees to draw (default ${GENERALISATION_TREES}, or the run's test split if smaller)
  --seed S          seed of the fresh trees (default: the run's seed)
  --shuffle-edges   fresh trees list their edges in random order
  --out FILE        write each tree's routes as JSON Lines (replaces only an earlier output of this command)
  --threads N       threads (default: all cores)
  --memory MB       engine memory to reserve (default 2048)
  --json            print the scores as one JSON object on the last stdout line`;

const s = { type: "string" } as const;
const FLAGS = { run: s, data: s, count: s, seed: s, "shuffle-edges": { type: "boolean" }, out: s, threads: s, memory: s, json: { type: "boolean" } } as const;

/** The trees to score, and where they came from. */
interface TreeSource {
  examples: TreeExample[];
  /** Line numbers in --data (null for fresh trees). */
  lines: number[] | null;
  describe: string;
  json: Record<string, unknown>;
}

/** Runs `jepa tree eval`. */
export async function treeEvalCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "tree eval");
  const dir = requireFlag(f, "run", "tree eval");
  const data = f.data;
  if (data !== undefined && (f.count !== undefined || f.seed !== undefined || f["shuffle-edges"])) {
    throw new UsageError("--count, --seed and --shuffle-edges draw fresh trees; they do not apply with --data");
  }
  checkRunDir(dir);
  // Checked before the evaluation, so that a bad --out loses no work.
  if (f.out !== undefined) checkOutputFile(f.out, [dir, ...(data === undefined ? [] : [data])], "out", "tree eval", isTreeEvalFile);
  const run = readTreeRun(dir);
  const source = data !== undefined ? treesFromFile(data, run) : freshSource(run, f.count, f.seed, f["shuffle-edges"] === true);
  const engine = await createNodeEngine(engineOptionsFromFlags(f));
  let result: ModelsEval;
  try {
    console.error(`scoring ${source.describe} with ${dir}...`);
    result = evaluateModels(engine, loadTreeRunModels(engine, run), source.examples);
  } finally {
    await engine.close();
  }
  if (f.out !== undefined) writeFileAtomic(f.out, predictionLines(source, result));
  printScores(run, source, result, f.json === true);
}

/** Refuses, in one line, a --run that is missing, a file, or another command's folder. */
function checkRunDir(dir: string): void {
  if (!existsSync(dir)) throw new UsageError(`--run ${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--run ${dir} is a file, not a tree run's folder`);
  const marked = markedCommand(dir);
  if (marked && marked !== "tree") throw new UsageError(`--run ${dir} holds a 'jepa ${marked}' run, not a 'jepa tree' one`);
  // A run from before folders were marked is recognised by its checkpoints.
  if (!marked && !isCheckpoint(join(dir, "pretrain")) && !isCheckpoint(join(dir, "talker"))) throw new UsageError(`--run ${dir} is not a 'jepa tree' run (no run mark, no tree checkpoints)`);
}

function treesFromFile(path: string, run: TreeRunFiles): TreeSource {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const rows = parseTreeJsonl(decodeUtf8Lines(bytes, path), path, run.data);
  return { examples: rows.map((r) => r.example), lines: rows.map((r) => r.line), describe: `${rows.length} trees from ${path}`, json: { data: path } };
}

function freshSource(run: TreeRunFiles, countFlag: string | undefined, seedFlag: string | undefined, shuffleEdges: boolean): TreeSource {
  const count = intFlag(countFlag, "count", Math.min(GENERALISATION_TREES, run.data.trees.test), 1, 1_000_000);
  const seed = intFlag(seedFlag, "seed", run.data.seed, 0, 2 ** 31 - 1);
  const examples = freshTrees(run.data, runKeys(runSplits(run.data)), { count, seed, shuffleEdges });
  const order = shuffleEdges ? "edges in random order" : "edges in level order";
  return { examples, lines: null, describe: `${count} fresh trees (seed ${seed}, ${order})`, json: { fresh: { count, seed, shuffle_edges: shuffleEdges } } };
}

/** One JSON line per tree: its text with the correct route, and each model's route. */
function predictionLines(source: TreeSource, r: ModelsEval): string {
  const routeOf = (tokens: number[], len: number) => decodeTree(tokens.slice(0, len));
  return source.examples.map((ex, i) => {
    const len = ex.route.length, truth = ex.route.join("");
    const reasoner = routeOf(r.reasoner.tokens[i], len);
    const coupled = r.coupled ? routeOf(r.coupled.tokens[i], len) : null;
    return JSON.stringify({
      ...TREE_EVAL_MARK, tree: i, ...(source.lines ? { line: source.lines[i] } : {}), text: ex.text, route: truth,
      reasoner, reasoner_exact: reasoner === truth, coupled, coupled_exact: coupled === null ? null : coupled === truth,
    }) + "\n";
  }).join("");
}

function printScores(run: TreeRunFiles, source: TreeSource, r: ModelsEval, json: boolean): void {
  const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)} %`;
  const line = (name: string, s: RouteScores) =>
    `${name.padEnd(28)} exact match ${pct(s.exact).padStart(8)} (${Math.round(s.exact * s.count)}/${s.count}); per position ${s.perPosition.map((a, i) => `route[${i}] ${pct(a, 1)}`).join(", ")}`;
  console.log(`run ${run.dir} (depth ${run.data.depth}, seed ${run.data.seed}): ${source.describe}`);
  console.log(line("JEPA-Reasoner + Mono-Talker", r.reasoner.scores));
  console.log(r.coupled ? line("coupled Transformer T", r.coupled.scores) : `${"coupled Transformer T".padEnd(28)} not in this run (no baseline/)`);
  console.log(`exact match by the index of the target's edge as written (R${r.coupled ? " / T" : ""}): ${byTargetEdgeText(r.reasoner.scores, r.coupled?.scores ?? null)}`);
  if (!json) return;
  console.log(JSON.stringify({
    run: run.dir, depth: run.data.depth, ...source.json, trees: r.reasoner.scores.count,
    reasoner_exact: r.reasoner.scores.exact, reasoner_per_position: r.reasoner.scores.perPosition,
    coupled_exact: r.coupled?.scores.exact ?? null, coupled_per_position: r.coupled?.scores.perPosition ?? null,
    reasoner_by_target_edge: r.reasoner.scores.byTargetEdge, coupled_by_target_edge: r.coupled?.scores.byTargetEdge ?? null,
  }));
}
