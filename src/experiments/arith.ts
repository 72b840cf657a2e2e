/**
 * The arithmetic-reasoning comparison end to end (the paper's GSM8K experiment at a scale a CPU
 * can train): generate word problems, train a tokenizer on them, pretrain one Transformer on
 * few-shot prompts, then fine-tune it as the coupled baseline T and, with identical data and
 * hyperparameters, as the JEPA-Reasoner (SST), train a Dual-Talker on the frozen Reasoner,
 * evaluate both few-shot on held-out problems (and on GSM8K test when given), and run the Talker
 * ablation. Every phase checkpoints into its own directory under outDir, so a killed run resumes.
 */
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { Rng } from "../engine/rng.js";
import { generateArithSplits, type ArithProblem } from "../data/arith.js";
import { toGsm8kJsonl, type Gsm8kExample } from "../data/gsm8k.js";
import { buildTokenizer, type Tokenizer } from "../data/tokenizer.js";
import { evaluateFewShot, type FewShotResult, type ItemResult } from "../eval/gsm8k-harness.js";
import { coupledModel, jepaModel, type FewShotModel } from "../eval/gsm8k-models.js";
import { GSM8K_TASKS } from "../eval/gsm8k-tasks.js";
import { DualTalker } from "../model/dual-talker.js";
import { Reasoner } from "../model/reasoner.js";
import type { TalkerConfig } from "../model/talker-config.js";
import { TransformerLM } from "../model/transformer.js";
import { writeFileAtomic } from "../train/atomic.js";
import { makeFolder } from "../train/folders.js";
import { lmPhase } from "../train/lm-phase.js";
import { runTraining, type TrainSettings } from "../train/loop.js";
import { sstPhase } from "../train/sst-phase.js";
import { chainSpan, talkerPhase } from "../train/talker-phase.js";
import { groupToParams, paramsToGroup } from "../train/weights.js";
import type { ArithPreset, ArithSchedule } from "./arith-config.js";
import { fewShotDataset, packedDataset, tokenizerCorpus } from "./arith-data.js";
import { runTalkerAblation, type AblationResult } from "./arith-ablation.js";
import { loadTimings, timeStage, timeStageAsync } from "./run-timings.js";

/** GSM8K problems to evaluate on, with the problems whose first n serve as exemplars. */
export interface Gsm8kSets {
  test: Gsm8kExample[];
  exemplars: Gsm8kExample[];
}

/** What a run is asked to do. */
export interface ArithRunOptions {
  preset: ArithPreset;
  seed: number;
  outDir: string;
  gsm8k: Gsm8kSets | null;
  log: (line: string) => void;
}

/** One evaluation without its per-problem list (that goes to a JSONL file), plus a few samples. */
export type EvalSummary = Omit<FewShotResult, "items"> & { samples: ItemResult[]; file: string };

/** Both models at one shot count on one problem set. */
export interface ShotPair {
  shots: number;
  coupled: EvalSummary;
  reasoner: EvalSummary;
}

/** Everything the report is written from. */
export interface ArithResults {
  preset: ArithPreset;
  seed: number;
  tokenizer: { kind: string; size: number };
  parameters: { model: number; talker: number };
  data: { train: number; test: number; seq: number; meanTrainTokens: number; longestAnswer: number };
  budget: number;
  arith: ShotPair[];
  gsm8k: ShotPair[] | null;
  ablation: AblationResult;
  seconds: Record<string, number>;
}

/** The trained models of a run. */
interface Models {
  coupled: TransformerLM;
  reasoner: Reasoner;
  talker: DualTalker;
}

/** Runs the whole experiment and writes checkpoints, data and evaluation logs under outDir. */
export async function runArithExperiment(engine: Engine, o: ArithRunOptions): Promise<ArithResults> {
  makeFolder(join(o.outDir, "evals"));
  const seconds = loadTimings(o.outDir);
  const timed = <T>(name: string, fn: () => T | Promise<T>): Promise<T> => timeStageAsync(o.outDir, seconds, name, fn);
  const data = await timed("data", () => prepareData(o));
  // trainModels times each phase itself.
  const models = trainModels(engine, o, data, seconds);
  const budget = Math.min(o.preset.maxSteps, data.longestAnswer + 8);
  const evalSet = (set: string, problems: readonly Gsm8kExample[], exemplars: readonly Gsm8kExample[]) =>
    evaluatePair(engine, models, data.tokenizer, o, { set, problems, exemplars, budget });
  const arith = await timed("eval_arith", () => evalSet("arith", data.splits.test, data.splits.train));
  const gsm8k = o.gsm8k ? await timed("eval_gsm8k", () => evalSet("gsm8k", o.gsm8k!.test.slice(0, o.preset.gsm8kLimit), o.gsm8k!.exemplars)) : null;
  o.log(`Talker ablation on ${o.preset.ablation.samples} held-out problems...`);
  const ablation = await timed("ablation", () => runTalkerAblation(engine, models.reasoner, models.talker, data.tokenizer, data.splits.test.slice(0, o.preset.ablation.samples), {
    prefix: o.preset.ablation.prefix, rng: new Rng(o.seed + 9), source: o.preset.talkerTraining.latents,
  }));
  return {
    preset: o.preset, seed: o.seed, tokenizer: { kind: data.tokenizer.kind, size: data.tokenizer.size },
    parameters: { model: models.coupled.params.count(), talker: models.talker.params.count() },
    data: { train: data.splits.train.length, test: data.splits.test.length, seq: data.seq, meanTrainTokens: data.meanTokens, longestAnswer: data.longestAnswer },
    budget, arith, gsm8k, ablation, seconds,
  };
}

/** Problems, tokenizer and few-shot datasets; the problems are also written as GSM8K JSONL. */
async function prepareData(o: ArithRunOptions) {
  const p = o.preset;
  const rng = new Rng(o.seed);
  const splits = generateArithSplits({ train: p.problems.train, test: p.problems.val + p.problems.test }, rng, p.generator);
  const val = splits.test.slice(0, p.problems.val);
  const test = splits.test.slice(p.problems.val);
  makeFolder(join(o.outDir, "data"));
  writeFileAtomic(join(o.outDir, "data", "arith-train.jsonl"), toGsm8kJsonl(splits.train));
  writeFileAtomic(join(o.outDir, "data", "arith-test.jsonl"), toGsm8kJsonl(test));
  // A character vocabulary must also cover the GSM8K text it will read (only its characters:
  // BPE merges are learned from the training problems alone, and bytes cover everything else).
  const gsm8kText = p.tokenizer === "char" && o.gsm8k ? [...o.gsm8k.test, ...o.gsm8k.exemplars].map((e) => `${e.question} ${e.answer}`) : [];
  const tokenizer = await buildTokenizer(p.tokenizer, [...tokenizerCorpus(splits.train), ...gsm8kText]);
  const train = fewShotDataset(tokenizer, splits.train, splits.train, p.maxShots, new Rng(o.seed + 1));
  const valData = fewShotDataset(tokenizer, val, splits.train, p.maxShots, new Rng(o.seed + 2));
  const lengths = train.examples.map((e) => e.tokens.length);
  const seq = Math.max(...lengths, ...valData.examples.map((e) => e.tokens.length)) - 1;
  const longestAnswer = Math.max(...train.examples.map((e) => e.tokens.length - e.lossStart));
  const packed = packedDataset(tokenizer, splits.train, seq + 1, p.problems.train, new Rng(o.seed + 3));
  const meanTokens = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  o.log(`arithmetic word problems, preset ${p.name}: ${splits.train.length} train / ${val.length} val / ${test.length} test; ${tokenizer.kind} tokenizer of ${tokenizer.size} tokens; prompts of 0-${p.maxShots} shots, ${Math.round(meanTokens)} tokens on average, at most ${seq + 1}`);
  return { splits: { train: splits.train as ArithProblem[], test }, tokenizer, packed, train, val: valData, seq, longestAnswer, meanTokens };
}

type Prepared = Awaited<ReturnType<typeof prepareData>>;

/** Pretraining (packed text), then T's fine-tune and the Reasoner's SST on one schedule, then the Dual-Talker. */
function trainModels(engine: Engine, o: ArithRunOptions, d: Prepared, seconds: Record<string, number>): Models {
  const p = o.preset, seed = o.seed;
  const settings = (s: ArithSchedule, loss: "all" | "answer", offset: number): TrainSettings => ({
    steps: s.steps, batch: p.batch, seq: d.seq, lr: s.lr, minLr: s.lr / 10, warmup: s.warmup, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clip: 1,
    evalEvery: p.evalEvery, checkpointEvery: Math.max(25, Math.floor(s.steps / 4)), logEvery: Math.max(5, Math.floor(s.steps / 20)), seed: seed + offset, loss,
  });
  const run = (name: string) => ({ outDir: join(o.outDir, name), label: name, log: o.log });
  const timed = (name: string, fn: () => void) => timeStage(o.outDir, seconds, name, fn);
  const model = { ...p.reasoner, vocab: d.tokenizer.size };
  const tokenizer = d.tokenizer.toJSON();
  const base = { experiment: "arith", model, tokenizer };
  const reasoner = new Reasoner(engine, model, new Rng(seed));
  timed("pretrain", () => runTraining(engine, d.packed, lmPhase(engine, reasoner.lm, { kind: "transformer", role: "pretrain", ...base }, d.val, d.seq, "answer"), settings(p.pretrain, "all", 1), run("pretrain")));
  const snapshot = new Map([...paramsToGroup(reasoner.lm.params)].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }]));

  // T and the Reasoner continue from the same weights on the same batches with the same schedule.
  const coupled = new TransformerLM(engine, model, new Rng(seed));
  groupToParams(snapshot, coupled.params);
  timed("baseline", () => runTraining(engine, d.train, lmPhase(engine, coupled, { kind: "transformer", role: "baseline", ...base }, d.val, d.seq, "answer"), settings(p.finetune, "answer", 2), run("baseline")));
  reasoner.resetEma();
  timed("sst", () => runTraining(engine, d.train, sstPhase(engine, reasoner, { kind: "reasoner", ...base, sst: p.sst }, p.sst, d.val, d.seq, "answer"), settings(p.finetune, "answer", 2), run("sst")));

  const talkerConfig: TalkerConfig = { kind: "dual", latentDim: model.dModel, stack: { ...p.talker, vocab: d.tokenizer.size }, encoderLayers: p.talker.encoderLayers, causal: false };
  const talker = new DualTalker(engine, talkerConfig, new Rng(seed + 4));
  const span = chainSpan(d.train);
  const source = p.talkerTraining.latents;
  const config = { kind: "talker", experiment: "arith", talker: talkerConfig, reasoner: model, tokenizer, answer: span, latents: source };
  timed("talker", () => runTraining(engine, d.train, talkerPhase(engine, reasoner, talker, config, span, source, d.seq, d.val), settings(p.talkerTraining, "answer", 4), run("talker")));
  return { coupled, reasoner, talker };
}

/** What one evaluation pass covers. */
interface EvalPlan {
  set: string;
  problems: readonly Gsm8kExample[];
  exemplars: readonly Gsm8kExample[];
  budget: number;
}

/** Both models at every evaluation shot count on one problem set (gsm8k convention, greedy). */
function evaluatePair(engine: Engine, m: Models, tokenizer: Tokenizer, o: ArithRunOptions, plan: EvalPlan): ShotPair[] {
  const models: Record<"coupled" | "reasoner", FewShotModel> = {
    coupled: coupledModel(m.coupled, tokenizer.endId),
    reasoner: jepaModel(engine, m.reasoner, m.talker, tokenizer.endId),
  };
  return o.preset.evalShots.map((shots) => {
    const one = (key: "coupled" | "reasoner"): EvalSummary => {
      const r = evaluateFewShot(models[key], tokenizer, plan.problems, { task: GSM8K_TASKS.gsm8k, shots, exemplarSource: plan.exemplars, maxSteps: plan.budget });
      const file = join("evals", `${plan.set}-${shots}shot-${key}.jsonl`);
      writeFileAtomic(join(o.outDir, file), r.items.map((x) => JSON.stringify(x) + "\n").join(""));
      o.log(`${plan.set} ${shots}-shot, ${r.model}: strict ${(100 * r.strict).toFixed(1)} %, flexible ${(100 * r.flexible).toFixed(1)} % of ${r.count} (${r.seconds.toFixed(0)} s)`);
      const { items, ...rest } = r;
      return { ...rest, samples: items.slice(0, 3), file };
    };
    return { shots, coupled: one("coupled"), reasoner: one("reasoner") };
  });
}
