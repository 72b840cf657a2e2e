/**
 * Phase 3: the Talker learns to read the latent chain while the Reasoner stays frozen. The
 * chain is the Reasoner's latents for the answer positions: teacher-forced (one parallel pass
 * over the true tokens) or free-running (rolled out from the prompt, as at inference).
 * Examples may start their answers at different indices (few-shot prompts differ in length):
 * each row's chain is then read at its own start, and rows are rolled out in groups of equal
 * prompt length, so no prompt is padded. Chains run to the longest answer: the Dual-Talker's
 * encoder masks the latents past a row's own answer, the Mono-Talker sees them.
 */
import type { Engine } from "../engine/engine.js";
import { crossEntropy } from "../engine/ops/loss.js";
import { sliceSeq } from "../engine/ops/sequence.js";
import type { Tensor } from "../engine/tensor.js";
import { batchInOrder, type Batch, type Dataset } from "../data/dataset.js";
import type { DualTalker } from "../model/dual-talker.js";
import type { MonoTalker } from "../model/mono-talker.js";
import { EMA_NAME, type Reasoner } from "../model/reasoner.js";
import { rollout } from "../infer/rollout.js";
import { argmax } from "../infer/sampling.js";
import type { CheckpointConfig, TensorGroup } from "./checkpoint.js";
import type { Phase } from "./loop.js";
import { groupToParams, paramsToGroup } from "./weights.js";

/** Where the Talker's training latents come from. */
export type LatentSource = "teacher" | "rollout";

/** The answer region every example shares: it starts at token `start` and spans `length` tokens. */
export interface AnswerSpan {
  start: number;
  length: number;
}

/**
 * Where the chain is read: at `start` in every example, or (start null) at each example's own
 * loss_start, which then needs batches whose targets begin there (loss "answer"); `length`
 * latents, the longest answer.
 */
export interface ChainSpan {
  start: number | null;
  length: number;
}

/** The answer span of a dataset; all examples must start their answer at the same index. */
export function answerSpan(data: Dataset): AnswerSpan {
  const start = data.examples[0].lossStart;
  const bad = data.examples.findIndex((e) => e.lossStart !== start);
  if (bad >= 0) throw new Error(`talker training needs one answer start for all examples: example ${bad} starts at ${data.examples[bad].lossStart}, the first at ${start}`);
  return { start, length: Math.max(...data.examples.map((e) => e.tokens.length)) - start };
}

/** The chain span of a dataset whose examples may start their answers anywhere (shared start when they agree). */
export function chainSpan(data: Dataset): ChainSpan {
  const first = data.examples[0].lossStart;
  const shared = data.examples.every((e) => e.lossStart === first);
  return { start: shared ? first : null, length: Math.max(...data.examples.map((e) => e.tokens.length - e.lossStart)) };
}

/** Each row's answer start: the shared one, or one past the row's first target position. */
export function rowStarts(batch: Batch, span: ChainSpan): number[] {
  return Array.from({ length: batch.batch }, (_, b) => {
    if (span.start !== null) return span.start;
    const first = batch.targets.subarray(b * batch.seq, (b + 1) * batch.seq).findIndex((t) => t >= 0);
    if (first < 0) throw new Error(`talker: batch row ${b} has no answer target`);
    return first + 1;
  });
}

/** The chain (B, length, D) of latents for the answer positions of a batch; no gradients. */
export function answerLatents(engine: Engine, reasoner: Reasoner, batch: Batch, span: ChainSpan, source: LatentSource): Tensor {
  const starts = rowStarts(batch, span);
  return engine.noGrad(() => {
    if (source === "rollout") return rolloutRows(engine, reasoner, batch, starts, span.length);
    const inputs = engine.fromArray(batch.inputs, [batch.batch, batch.seq], { dtype: "i32" });
    const latents = reasoner.latents(inputs);
    if (starts.every((s) => s === starts[0])) return sliceSeq(latents, starts[0] - 1, span.length);
    return gatherRows(latents, starts.map((s) => s - 1), span.length);
  });
}

/** Rolls each group of rows with the same prompt length out together, into one chain (B, length, D). */
function rolloutRows(engine: Engine, reasoner: Reasoner, batch: Batch, starts: number[], length: number): Tensor {
  const promptOf = (rows: number[], P: number) => {
    const prompt = new Int32Array(rows.length * P);
    rows.forEach((b, i) => prompt.set(batch.inputs.subarray(b * batch.seq, b * batch.seq + P), i * P));
    return engine.fromArray(prompt, [rows.length, P], { dtype: "i32" });
  };
  const groups = new Map<number, number[]>();
  starts.forEach((s, b) => groups.set(s, [...(groups.get(s) ?? []), b]));
  if (groups.size === 1) return rollout(reasoner, promptOf(starts.map((_, b) => b), starts[0]), { steps: length });
  const D = reasoner.config.dModel;
  const chain = engine.zeros([batch.batch, length, D]);
  for (const [P, rows] of groups) {
    engine.scoped(() => {
      const part = rollout(reasoner, promptOf(rows, P), { steps: length }).view();
      rows.forEach((b, i) => chain.view().set(part.subarray(i * length * D, (i + 1) * length * D), b * length * D));
    });
  }
  return chain;
}

/** Rows of x (B, T, D), each from its own offset, `length` long (zeros past T). */
function gatherRows(x: Tensor, offsets: number[], length: number): Tensor {
  const [B, T, D] = x.shape;
  const out = x.engine.zeros([B, length, D]);
  const src = x.view(), dst = out.view();
  offsets.forEach((o, b) => {
    const n = Math.max(0, Math.min(length, T - o));
    dst.set(src.subarray((b * T + o) * D, (b * T + o + n) * D), b * length * D);
  });
  return out;
}

/** Inputs and targets (B, length) of each row's answer region: the previous token and the answer token. */
function answerTokens(engine: Engine, batch: Batch, span: ChainSpan): { previous: Tensor; targets: Tensor } {
  const B = batch.batch, L = span.length;
  const starts = rowStarts(batch, span);
  const previous = new Int32Array(B * L), targets = new Int32Array(B * L).fill(-1);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < L && starts[b] - 1 + t < batch.seq; t++) {
      previous[b * L + t] = batch.inputs[b * batch.seq + starts[b] - 1 + t];
      targets[b * L + t] = batch.targets[b * batch.seq + starts[b] - 1 + t];
    }
  }
  return { previous: engine.fromArray(previous, [B, L], { dtype: "i32" }), targets: engine.fromArray(targets, [B, L], { dtype: "i32" }) };
}

/** Logits (B, length, vocab) of either Talker for a chain and the answer's previous tokens. */
export function talkerLogits(talker: MonoTalker | DualTalker, chain: Tensor, previous: Tensor, targets: Tensor): Tensor {
  if (talker.config.kind === "mono") return (talker as MonoTalker).logits(chain);
  const dual = talker as DualTalker;
  const t = targets.ints();
  const mask = chain.engine.fromArray(Float32Array.from(t, (v) => (v >= 0 ? 1 : 0)), targets.shape);
  return dual.decode(previous, dual.encode(chain, mask), mask);
}

/** A phase training the Talker on a frozen Reasoner's chains. */
export function talkerPhase(
  engine: Engine, reasoner: Reasoner, talker: MonoTalker | DualTalker, config: CheckpointConfig,
  span: ChainSpan, source: LatentSource, seq: number, evalData: Dataset | null,
): Phase {
  const V = talker.config.stack.vocab;
  return {
    config,
    params: talker.params.list(),
    loss(batch) {
      const chain = answerLatents(engine, reasoner, batch, span, source);
      const { previous, targets } = answerTokens(engine, batch, span);
      const logits = talkerLogits(talker, chain, previous, targets);
      return { loss: crossEntropy(logits.reshape([-1, V]), targets.reshape([-1])) };
    },
    evaluate: evalData ? () => evaluateTalker(engine, reasoner, talker, evalData, span, seq) : undefined,
    bestMetric: { name: "exact", mode: "max" },
    weights: () => ({ model: talkerGroup(reasoner, talker), ema: new Map([[`reasoner.${EMA_NAME}`, { shape: reasoner.ema.shape, data: reasoner.ema.view() }]]) }),
    restore(ckpt) {
      groupToParams(ckpt.model, talker.params, "talker.");
      groupToParams(ckpt.model, reasoner.lm.params, "reasoner.");
    },
  };
}

/** Talker and frozen Reasoner weights in one group ("talker.*", "reasoner.*"): a self-contained model. */
export function talkerGroup(reasoner: Reasoner, talker: MonoTalker | DualTalker): TensorGroup {
  return paramsToGroup(reasoner.lm.params, "reasoner.", paramsToGroup(talker.params, "talker."));
}

/**
 * Token accuracy and exact match of the answers read from free-running rollouts (the real
 * inference path). Mono decodes greedily in one pass; Dual is scored with the true previous
 * tokens as decoder input (teacher-forced), which bounds its free decoding from above.
 */
export function evaluateTalker(engine: Engine, reasoner: Reasoner, talker: MonoTalker | DualTalker, data: Dataset, span: ChainSpan, seq: number, batchSize = 64): Record<string, number> {
  let tokens = 0, correct = 0, exact = 0, rows = 0;
  const V = talker.config.stack.vocab;
  for (let start = 0; start < data.examples.length; start += batchSize) {
    const mark = engine.heap.mark();
    const batch = batchInOrder(data, start, batchSize, seq, "answer");
    const chain = answerLatents(engine, reasoner, batch, span, "rollout");
    const { previous, targets } = answerTokens(engine, batch, span);
    const logits = talkerLogits(talker, chain, previous, targets).view();
    const t = targets.ints();
    for (let b = 0; b < batch.batch; b++) {
      let all = true;
      for (let i = 0; i < span.length; i++) {
        const target = t[b * span.length + i];
        if (target < 0) continue;
        const hit = argmax(logits.subarray((b * span.length + i) * V, (b * span.length + i + 1) * V)) === target;
        tokens++;
        if (hit) correct++;
        else all = false;
      }
      if (all) exact++;
      rows++;
    }
    engine.heap.release(mark);
  }
  return { token_acc: tokens ? correct / tokens : 0, exact: rows ? exact / rows : 0 };
}
