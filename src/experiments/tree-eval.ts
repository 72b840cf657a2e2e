/**
 * Evaluating tree routing: the JEPA-Reasoner (latent rollout + Mono-Talker) and the coupled
 * Transformer (greedy autoregressive decoding) on held-out trees, plus the route latents the
 * analyses need.
 */
import type { Engine } from "../engine/engine.js";
import type { Tensor } from "../engine/tensor.js";
import { TREE_END_ID, TREE_VOCAB, type TreeExample } from "../data/tree.js";
import { greedyContinue } from "../infer/generate-lm.js";
import { rollout } from "../infer/rollout.js";
import { monoTalk } from "../infer/talk.js";
import type { MonoTalker } from "../model/mono-talker.js";
import type { Reasoner } from "../model/reasoner.js";
import type { TransformerLM } from "../model/transformer.js";

/** Exact match of whole routes and accuracy at each route position. */
export interface RouteScores {
  exact: number;
  perPosition: number[];
  count: number;
  /**
   * Exact match by where the target is written: the index, among the tree's edges as written, of
   * the edge naming the target (trees with the target there, and their exact match). A model that
   * routes by position rather than by the edges fails some indices and not others.
   */
  byTargetEdge: Array<{ edge: number; count: number; exact: number }>;
}

/** Route letters predicted per tree, scored against the truth. */
export function scoreRoutes(examples: readonly TreeExample[], predicted: number[][]): RouteScores {
  const len = examples[0].route.length;
  const hits = new Array<number>(len).fill(0);
  const byEdge = new Map<number, { count: number; hits: number }>();
  let exact = 0;
  examples.forEach((ex, i) => {
    let all = true;
    for (let p = 0; p < len; p++) {
      const ok = TREE_VOCAB[predicted[i][p]] === ex.route[p];
      if (ok) hits[p]++;
      else all = false;
    }
    if (all) exact++;
    const edge = ex.edges.findIndex(([, child]) => child === ex.target);
    const tally = byEdge.get(edge) ?? { count: 0, hits: 0 };
    byEdge.set(edge, { count: tally.count + 1, hits: tally.hits + Number(all) });
  });
  const byTargetEdge = [...byEdge].sort(([a], [b]) => a - b).map(([edge, t]) => ({ edge, count: t.count, exact: t.hits / t.count }));
  return { exact: exact / examples.length, perPosition: hits.map((h) => h / examples.length), count: examples.length, byTargetEdge };
}

/** "6: 100 / 98 %, 7: ..." — exact match of one or two models by the target's edge index. */
export function byTargetEdgeText(a: RouteScores, b: RouteScores | null): string {
  const pct = (x: number) => (100 * x).toFixed(0);
  return a.byTargetEdge.map(({ edge, exact }, i) => `${edge}: ${pct(exact)}${b ? ` / ${pct(b.byTargetEdge[i].exact)}` : ""} %`).join(", ");
}

/** The prompt ids (B, routeStart) of a batch of trees: everything up to and including [ROUTE]. */
export function promptTensor(engine: Engine, batch: readonly TreeExample[]): Tensor {
  const P = batch[0].routeStart;
  if (batch.some((ex) => ex.routeStart !== P)) throw new Error("trees of one batch must share their prompt length");
  return engine.fromArray(batch.flatMap((ex) => ex.tokens.slice(0, P)), [batch.length, P], { dtype: "i32" });
}

/** Route chains and Talker readouts for many trees. */
export interface ReasonerEval {
  scores: RouteScores;
  /** Per tree: the chain's latents, (route length + 1) × D, row-major. */
  chains: Float32Array[];
  tokens: number[][];
}

/** Rolls out each tree's chain (route + <end>) and reads it with the Mono-Talker, greedily. */
export function evaluateReasoner(engine: Engine, reasoner: Reasoner, talker: MonoTalker, examples: readonly TreeExample[], batchSize = 250): ReasonerEval {
  const steps = examples[0].route.length + 1;
  const chains: Float32Array[] = [];
  const tokens: number[][] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    engine.noGrad(() => engine.scoped(() => {
      const latents = rollout(reasoner, promptTensor(engine, batch), { steps });
      const chain = latents.view();
      const D = reasoner.config.dModel;
      batch.forEach((_, b) => chains.push(chain.slice(b * steps * D, (b + 1) * steps * D)));
      tokens.push(...monoTalk(talker, latents));
    }));
  }
  return { scores: scoreRoutes(examples, tokens), chains, tokens };
}

/** Greedy decoding of the route by the coupled Transformer, scored the same way. */
export function evaluateCoupled(engine: Engine, lm: TransformerLM, examples: readonly TreeExample[], batchSize = 250): { scores: RouteScores; tokens: number[][] } {
  const steps = examples[0].route.length + 1;
  const tokens: number[][] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    engine.noGrad(() => engine.scoped(() => tokens.push(...greedyContinue(lm, promptTensor(engine, batch), steps, TREE_END_ID))));
  }
  return { scores: scoreRoutes(examples, tokens), tokens };
}

/** A run's models: the JEPA-Reasoner with its Mono-Talker, and the coupled T when there is one. */
export interface TreeModels {
  reasoner: Reasoner;
  talker: MonoTalker;
  coupled: TransformerLM | null;
}

/** Routes and scores of both models on the same trees (coupled: null when the run has no T). */
export interface ModelsEval {
  reasoner: { scores: RouteScores; tokens: number[][] };
  coupled: { scores: RouteScores; tokens: number[][] } | null;
}

/** Scores both models of a run on `examples` (trees of the run's depth, so prompts share a length). */
export function evaluateModels(engine: Engine, models: TreeModels, examples: readonly TreeExample[]): ModelsEval {
  const r = evaluateReasoner(engine, models.reasoner, models.talker, examples);
  return {
    reasoner: { scores: r.scores, tokens: r.tokens },
    coupled: models.coupled ? evaluateCoupled(engine, models.coupled, examples) : null,
  };
}
