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
  /** Coupled T after a forced wrong first branch: continuations whose next letter is a child of the forced one. */
  coupledFollowsError: number;
  /** Coupled T after a forced wrong first branch: continuations whose next token is back on the correct route. */
  coupledReturnsToRoute: number;
  /** Coupled T after a forced wrong first branch: continuations whose last letter is the target (a copy from the prompt, whatever the path). */
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
  const coupledCheck = coupled ? forcedWrongBranch(engine, coupled, examples) : { follows: NaN, returns: NaN, reaches: NaN };
  return {
    trees: examples.length, corruptedTokens: corrupted, identicalChains, identicalAnalysis: before === after,
    coupledFollowsError: coupledCheck.follows, coupledReturnsToRoute: coupledCheck.returns, coupledReachesTarget: coupledCheck.reaches,
  };
}

/**
 * Forces the sibling of the correct first branch after the root, then decodes greedily, and
 * sorts each continuation by its next letter: a child of the forced one (the error carried into
 * the next decision), or the correct route's letter (a jump back, ignoring its own error); and
 * by its last letter: the target or not (the prompt names the target, so a model may copy it
 * even at the end of a broken path).
 */
function forcedWrongBranch(engine: Engine, lm: TransformerLM, examples: readonly TreeExample[]): { follows: number; returns: number; reaches: number } {
  let follows = 0, returns = 0, reaches = 0;
  const prompts = examples.map((ex) => [...ex.tokens.slice(0, ex.routeStart), letterId(ex.route[0]), letterId(ex.siblings[0][1])]);
  const rest = examples[0].route.length - 2;
  const outputs = engine.noGrad(() => engine.scoped(() => greedyContinue(lm, engine.fromArray(prompts.flat(), [prompts.length, prompts[0].length], { dtype: "i32" }), rest)));
  examples.forEach((ex, i) => {
    const c = afterWrongBranch(ex, outputs[i].map((id) => TREE_VOCAB[id]));
    follows += Number(c.follows);
    returns += Number(c.returns);
    reaches += Number(c.reaches);
  });
  return { follows: follows / examples.length, returns: returns / examples.length, reaches: reaches / examples.length };
}

/** How a continuation after the forced wrong first branch (`letters`, the route letters after it) relates to the tree. */
export function afterWrongBranch(ex: TreeExample, letters: readonly string[]): { follows: boolean; returns: boolean; reaches: boolean } {
  const children = parseTree(ex.text).children.get(ex.siblings[0][1]) ?? [];
  return { follows: children.includes(letters[0]), returns: letters[0] === ex.route[2], reaches: letters[letters.length - 1] === ex.target };
}
