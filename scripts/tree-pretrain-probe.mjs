// Probes training recipes for the tree task's Transformer: trains one model (from scratch or
// from a checkpoint) and, at every evaluation, prints next-token accuracy at each of the five
// route targets of 500 held-out trees (root, two branching steps, target, end). The root, the
// target and the end are copies from fixed positions; the two branching steps are the lookups
// the task is about (50 % there = it knows the current node's children but not which leads to
// the target).
// Usage (after `npm run build`):
//   node scripts/tree-pretrain-probe.mjs --out DIR [--layers 6 --d 64 --heads 4 --lr 1e-3
//     --steps 3000 --warmup 100 --batch 32 --trees 100000 --loss all|answer --rope-base 10000
//     --attn-scale 1 --qk-norm paper|temp|none --qk-temp 10 --mix-depth3 0.5 --init CHECKPOINT_DIR
//     --eval-every 250 --threads 1 --seed 1 --depth 4 --attn-dim D --route-dropout P --shuffle-edges]
import { parseArgs } from "node:util";
import { createNodeEngine } from "../dist/src/engine/node.js";
import { Rng } from "../dist/src/engine/rng.js";
import { generateSplit, generateSplits, TREE_VOCAB } from "../dist/src/data/tree.js";
import { batchInOrder } from "../dist/src/data/dataset.js";
import { treeDataset } from "../dist/src/experiments/tree.js";
import { byTargetEdgeText, scoreRoutes } from "../dist/src/experiments/tree-eval.js";
import { TransformerLM } from "../dist/src/model/transformer.js";
import { MODEL_PRESETS } from "../dist/src/model/presets.js";
import { loadCheckpoint } from "../dist/src/train/checkpoint.js";
import { batchTensors, lmPhase } from "../dist/src/train/lm-phase.js";
import { runTraining } from "../dist/src/train/loop.js";
import { groupToParams } from "../dist/src/train/weights.js";

const flag = (type, dflt) => ({ type, default: dflt });
const { values: o } = parseArgs({
  options: {
    out: flag("string"), layers: flag("string", "6"), d: flag("string", "64"), heads: flag("string", "4"), lr: flag("string", "1e-3"),
    steps: flag("string", "3000"), warmup: flag("string", "100"), batch: flag("string", "32"), trees: flag("string", "100000"),
    loss: flag("string", "all"), "rope-base": flag("string", "10000"), "attn-scale": flag("string", "1"), "mix-depth3": flag("string", "0"),
    init: flag("string"), "eval-every": flag("string", "250"), threads: flag("string", "1"),
    "qk-norm": flag("string", "paper"), "qk-temp": flag("string", "10"), seed: flag("string", "1"),
    "route-dropout": flag("string", "0"), "attn-dim": flag("string"), depth: flag("string", "4"), "shuffle-edges": flag("boolean", false),
  },
});
if (!o.out) throw new Error("--out DIR is required");
const engine = await createNodeEngine({ threads: +o.threads, memoryMB: 2048 });
const splits = generateSplits({ train: +o.trees, val: 500, test: 0 }, { seed: +o.seed, depth: +o.depth, alphabetSize: 15, shuffleEdges: o["shuffle-edges"] });
// Optional curriculum: extra depth-3 trees, whose one branching step is a single parent lookup.
const extra = +o["mix-depth3"] > 0 ? generateSplit("train", Math.round(+o.trees * +o["mix-depth3"]), { seed: 77, depth: 3, alphabetSize: 15 }) : [];
const d = +o.d;
const config = {
  ...MODEL_PRESETS.small, vocab: TREE_VOCAB.length, layers: +o.layers, dModel: d, attnDim: +(o["attn-dim"] ?? d), mlpDim: 4 * d, heads: +o.heads,
  ropeBase: +o["rope-base"], attnScale: +o["attn-scale"], qkNorm: o["qk-norm"], qkTemp: +o["qk-temp"],
};
const lm = new TransformerLM(engine, config, new Rng(+o.seed));
if (o.init) groupToParams(loadCheckpoint(o.init).model, lm.params);
const seq = splits.val[0].tokens.length - 1, val = treeDataset(splits.val);
const phase = lmPhase(engine, lm, { kind: "transformer", experiment: "tree-probe", model: config }, val, seq, "answer");
const evaluate = phase.evaluate;
phase.evaluate = () => {
  const metrics = evaluate();
  const { perPosition, exact, byEdge } = routeAccuracy();
  console.log(`  route-target accuracy (root, branches..., target, end): ${perPosition.map((a) => (100 * a).toFixed(1) + " %").join(", ")}; exact ${(100 * exact).toFixed(1)} %`);
  console.log(`  route exact match by the target's edge index: ${byEdge}`);
  return metrics;
};
const settings = {
  steps: +o.steps, batch: +o.batch, seq, lr: +o.lr, minLr: +o.lr / 10, warmup: +o.warmup, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clip: 1,
  evalEvery: +o["eval-every"], checkpointEvery: 500, logEvery: 100, seed: 2, loss: o.loss,
};
runTraining(engine, treeDataset([...splits.train, ...extra], +o["route-dropout"]), phase, settings, { outDir: o.out, label: "probe", log: (line) => console.log(line) });
await engine.close();

/** Accuracy of the argmax at each of the five route targets of the validation trees. */
function routeAccuracy() {
  const targets = +o.depth + 1, V = config.vocab;
  const correct = new Array(targets).fill(0);
  const predicted = [];
  let exact = 0;
  for (let start = 0; start < val.examples.length; start += 50) {
    const mark = engine.heap.mark();
    const batch = batchInOrder(val, start, 50, seq, "all");
    const logits = lm.logits(batchTensors(engine, batch).inputs).view();
    splits.val.slice(start, start + 50).forEach((ex, b) => {
      let all = true;
      const route = [];
      predicted.push(route);
      for (let p = 0; p < targets; p++) {
        const row = logits.subarray((b * seq + ex.routeStart - 1 + p) * V, (b * seq + ex.routeStart + p) * V);
        const guess = row.indexOf(Math.max(...row));
        route.push(guess);
        const right = guess === ex.tokens[ex.routeStart + p];
        if (right) correct[p]++;
        all &&= right;
      }
      if (all) exact++;
    });
    engine.heap.release(mark);
  }
  // Teacher-forced route letters (the end excluded), scored by where the target's edge is written.
  const byEdge = byTargetEdgeText(scoreRoutes(splits.val, predicted), null);
  return { perPosition: correct.map((c) => c / val.examples.length), exact: exact / val.examples.length, byEdge };
}
