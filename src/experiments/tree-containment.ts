/**
 * Error containment, shown on the tree task. For the JEPA-Reasoner, containment holds by
 * construction: the rollout's only input is the prompt, so the Talker's tokens have no way in.
 * What is checked here is what that construction implies, reproducibility: after the Talker's
 * tokens are corrupted, the chain rolled out again is bit-identical, and so are the
 * mixed-latent fits (the analysis is a function of the prompt alone). For contrast, the coupled
 * Transformer is forced to emit a wrong first branch and left to continue: its later tokens
 * are conditioned on the error.
 */
import type { Engine } from "../engine/engine.js";
import type { Rng } from "../engine/rng.js";
import { letterId, parseTree, TREE_VOCAB, type TreeExample } from "../data/tree.js";
import { greedyContinue } from "../infer/generate-lm.js";
import { rollout } from "../infer/rollout.js";
import { monoTalk } from "../infer/talk.js";
import type { MonoTalker } from "../model/mono-talker.js";
import type { Reasoner } from "../model/reasoner.js";
import type { TransformerLM } from "../model/transformer.js";
import { mixedLatents } from "./tree-analysis.js";
import { promptTensor } from "./tree-eval.js";

/** What the containment check found. */
export interface ContainmentReport {
  trees: number;
  corruptedTokens: number;
  /** Trees whose chain, rolled out again after the corruption, is bit-identical. */
  identicalChains: number;
  /** Whether the mixed-latent summary (α, β, ranks) is identical before and after. */
  identicalAnalysis: boolean;
  /** Coupled T after a forced wrong first branch: continuations that follow the wrong subtree. */
  coupledFollowsError: number;
  /** Coupled T after a forced wrong first branch: continuations that still end at the target. */
  coupledReachesTarget: number;
}

/** Runs both halves of the check on `examples` (with their chains from the evaluation). */
export function checkContainment(
  engine: Engine, reasoner: Reasoner, talker: MonoTalker, coupled: TransformerLM | null,
  examples: readonly TreeExample[], chains: Float32Array[], candidates: readonly number[], rng: Rng,
): ContainmentReport {
  const D = reasoner.config.dModel;
  const steps = examples[0].route.length + 1;
  const population = { ids: candidates, name: "used tokens" };
  const before = JSON.stringify(mixedLatents(chains, examples, reasoner.ema.view(), D, "EMA", population).overall);
  let corrupted = 0;
  const again = engine.noGrad(() => engine.scoped(() => {
    const latents = rollout(reasoner, promptTensor(engine, examples), { steps });
    // Corrupt every route letter the Talker produced; the tokens go nowhere the chain can see.
    for (const row of monoTalk(talker, latents)) {
      for (let i = 0; i < row.length - 1; i++) {
        row[i] = letterId(String.fromCharCode(65 + rng.int(26)));
        corrupted++;
      }
    }
    const redo = rollout(reasoner, promptTensor(engine, examples), { steps }).view();
    return examples.map((_, b) => redo.slice(b * steps * D, (b + 1) * steps * D));
  }));
  const identicalChains = again.filter((c, i) => Buffer.compare(Buffer.from(c.buffer), Buffer.from(chains[i].buffer)) === 0).length;
  const after = JSON.stringify(mixedLatents(again, examples, reasoner.ema.view(), D, "EMA", population).overall);
  const coupledCheck = coupled ? forcedWrongBranch(engine, coupled, examples) : { follows: NaN, reaches: NaN };
  return {
    trees: examples.length, corruptedTokens: corrupted, identicalChains, identicalAnalysis: before === after,
    coupledFollowsError: coupledCheck.follows, coupledReachesTarget: coupledCheck.reaches,
  };
}

/** Forces the sibling of the correct first branch after the root, then decodes greedily. */
function forcedWrongBranch(engine: Engine, lm: TransformerLM, examples: readonly TreeExample[]): { follows: number; reaches: number } {
  let follows = 0, reaches = 0;
  const prompts = examples.map((ex) => [...ex.tokens.slice(0, ex.routeStart), letterId(ex.route[0]), letterId(ex.siblings[0][1])]);
  const rest = examples[0].route.length - 2;
  const outputs = engine.noGrad(() => engine.scoped(() => greedyContinue(lm, engine.fromArray(prompts.flat(), [prompts.length, prompts[0].length], { dtype: "i32" }), rest)));
  examples.forEach((ex, i) => {
    const tree = parseTree(ex.text);
    let node = ex.siblings[0][1];
    let consistent = true;
    for (const id of outputs[i]) {
      const next = TREE_VOCAB[id];
      if (!(tree.children.get(node) ?? []).includes(next)) {
        consistent = false;
        break;
      }
      node = next;
    }
    if (consistent) follows++;
    if (node === ex.target) reaches++;
  });
  return { follows: follows / examples.length, reaches: reaches / examples.length };
}
