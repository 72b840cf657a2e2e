// Measures which latents the Talker should train on: teacher-forced (one parallel pass over
// the true tokens) or free-running rollouts (what it reads at inference). A small Reasoner
// learns to sort 8 digits (pretrain, SST), then two Mono-Talkers are trained on the same
// frozen Reasoner, one per latent source, and scored on 500 held-out problems from rollouts.
// Usage (after `npm run build`): node scripts/compare-talker-latents.mjs SEED [PRETRAIN_STEPS]
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeEngine } from "../dist/src/engine/node.js";
import { Rng } from "../dist/src/engine/rng.js";
import { Reasoner } from "../dist/src/model/reasoner.js";
import { MonoTalker } from "../dist/src/model/mono-talker.js";
import { lmPhase } from "../dist/src/train/lm-phase.js";
import { sstPhase } from "../dist/src/train/sst-phase.js";
import { talkerPhase, answerSpan, evaluateTalker } from "../dist/src/train/talker-phase.js";
import { runTraining } from "../dist/src/train/loop.js";
import { rmSync } from "node:fs";
const e = await createNodeEngine({ threads: 1, memoryMB: 1024 });
const seed = Number(process.argv[2] ?? 5);
const rng = new Rng(seed);
const V = 12;
const mk = () => { const xs = Array.from({length: 8}, () => 2 + rng.int(10)); return { tokens: [...xs, 1, ...[...xs].sort((a,b)=>a-b)], lossStart: 9 }; };
const train = { vocab: V, padId: 0, examples: Array.from({length: 8000}, mk) };
const val = { vocab: V, padId: 0, examples: Array.from({length: 500}, mk) };
const cfg = { vocab: V, dModel: 64, layers: 3, heads: 4, attnDim: 64, mlpDim: 256, normEps: 1e-5, ropeBase: 10000 };
const S = (steps, lr, loss) => ({ steps, batch: 32, seq: 17, lr, minLr: lr/10, warmup: 20, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clip: 1, evalEvery: 1000000, checkpointEvery: 100000, logEvery: 100000, seed, loss });
const dir = join(tmpdir(), "jepa-talker-latents-" + seed); rmSync(dir, { recursive: true, force: true });
const quiet = () => {};
const reasoner = new Reasoner(e, cfg, new Rng(seed));
runTraining(e, train, lmPhase(e, reasoner.lm, { kind: "transformer", model: cfg }, null, 17, "all"), S(Number(process.argv[3] ?? 300), 3e-3, "all"), { outDir: dir + "/pre", label: "pre", log: quiet });
reasoner.resetEma();
runTraining(e, train, sstPhase(e, reasoner, { kind: "reasoner", model: cfg }, { k: 4, momentum: 0.98 }, null, 17, "answer"), S(200, 1e-3, "answer"), { outDir: dir + "/sst", label: "sst", log: quiet });
const span = answerSpan(train);
for (const source of ["teacher", "rollout"]) {
  const tcfg = { kind: "mono", latentDim: 64, stack: { ...cfg, layers: 2 }, encoderLayers: 0, causal: false };
  const talker = new MonoTalker(e, tcfg, new Rng(seed + 1));
  runTraining(e, train, talkerPhase(e, reasoner, talker, { kind: "talker", talker: tcfg, source }, span, source, 17, null), S(300, 2e-3, "answer"), { outDir: dir + "/talk-" + source, label: source, log: quiet });
  const r = e.noGrad(() => evaluateTalker(e, reasoner, talker, val, span, 17));
  e.endStep();
  console.log(JSON.stringify({ seed, pretrainSteps: process.argv[3], source, ...r }));
}
await e.close();
