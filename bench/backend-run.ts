/**
 * The figures of `jepa bench` for one backend: the standard workload's training and inference
 * throughput, matmul GFLOP/s, the one-thread comparison, the latent workloads and a profile.
 */
import type { BackendName } from "../src/engine/backend.js";
import type { Engine } from "../src/engine/engine.js";
import { createNodeEngine } from "../src/engine/node.js";
import { runLatentWorkloads } from "./latent.js";
import { measureMatmul, runMatmulBench } from "./matmul.js";
import { runStandardWorkload } from "./standard.js";
import { measureTreeStep } from "./tree-step.js";

/** What to measure, and with what. */
export interface BackendRunOptions {
  threads: number;
  steps: number;
  warmup: number;
  memoryMB: number;
  single: boolean;
  latent: boolean;
  profile: boolean;
  matmulTable: boolean;
  /** Also time a pretraining step of the tree experiment's quick preset. */
  tree: boolean;
  /** Report the peak RSS: only meaningful for the first engine of the process (it never falls). */
  rss: boolean;
}

const SQUARE = { m: 1024, n: 1024, k: 1024 };

/** Measures one backend; a JSON-ready record of its figures. */
export async function runBackend(backend: BackendName, o: BackendRunOptions, log: (s: string) => void): Promise<Record<string, unknown>> {
  const engine = await createNodeEngine({ threads: o.threads, memoryMB: o.memoryMB, backend });
  const r: Record<string, unknown> = { backend, detail: engine.gemm.detail, kernels: engine.variant };
  log(`${backend}: ${o.threads} thread(s), matrix products on ${engine.gemm.detail}, other kernels ${engine.variant}, node ${process.version}`);
  try {
    const main = measureWorkload(engine, o, log);
    r.train_tok_s = round(main.trainTokS);
    r.infer_tok_s = round(main.inferTokS);
    // Before the other measurements, so it is the workload's peak.
    if (o.rss) r.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024);
    r.engine_peak_arena_mb = round(engine.heap.usage().peakArena / 1048576);
    r[`matmul_1024_gflops_${o.threads}t`] = round(measureMatmul(engine, SQUARE, 2), 1);
    if (o.matmulTable) runMatmulBench(engine, 1, log);
    if (o.latent) Object.assign(r, latentFigures(engine, o, log));
    if (o.tree) {
      r.tree_quick_step_ms = round(measureTreeStep(engine, o.steps, o.warmup), 1);
      log(`  ${backend}: tree quick preset, pretraining step ${r.tree_quick_step_ms} ms`);
    }
    if (o.profile) r.profile = profileStep(engine, log);
    if (o.single && o.threads > 1) Object.assign(r, await singleThread(backend, o, main.trainTokS, log));
  } finally {
    await engine.close();
  }
  return r;
}

function measureWorkload(engine: Engine, o: BackendRunOptions, log: (s: string) => void, infer = true) {
  const label = `${engine.gemm.backend}, ${engine.threads} thread${engine.threads > 1 ? "s" : ""}`;
  return runStandardWorkload(engine, {
    steps: o.steps, warmup: o.warmup, skipInference: !infer,
    onStep: (phase, step, seconds) => {
      const tag = step < o.warmup ? "warm-up" : `${step - o.warmup + 1}/${o.steps}`;
      log(`  ${label} ${phase} step ${tag}: ${(seconds * 1000).toFixed(0)} ms, ${Math.round(2048 / seconds)} tok/s`);
    },
  });
}

function latentFigures(engine: Engine, o: BackendRunOptions, log: (s: string) => void): Record<string, number> {
  log("latent workloads: SST step, rollout with and without the KV cache...");
  const latent = runLatentWorkloads(engine, { steps: o.steps, warmup: o.warmup });
  return {
    sst_tok_s: round(latent.sstTokS),
    rollout_latents_s_cached: round(latent.rolloutCachedLatentsS),
    rollout_latents_s_recompute: round(latent.rolloutRecomputeLatentsS),
    rollout_cache_speedup: round(latent.rolloutCachedLatentsS / latent.rolloutRecomputeLatentsS, 2),
  };
}

/** Training and 1024³ on one thread, beside the main figures. */
async function singleThread(backend: BackendName, o: BackendRunOptions, mainTokS: number, log: (s: string) => void): Promise<Record<string, number>> {
  const single = await createNodeEngine({ threads: 1, memoryMB: o.memoryMB, backend });
  try {
    const gflops = measureMatmul(single, SQUARE, 2);
    const one = measureWorkload(single, o, log, false);
    return { matmul_1024_gflops_1t: round(gflops, 1), train_tok_s_1t: round(one.trainTokS), train_scaling: round(mainTokS / one.trainTokS, 2) };
  } finally {
    await single.close();
  }
}

/** Kernel time shares of one training step. */
function profileStep(engine: Engine, log: (s: string) => void): Record<string, { calls: number; ms: number }> {
  engine.pool.profile(true);
  const t0 = performance.now();
  runStandardWorkload(engine, { steps: 1, warmup: 0, skipInference: true });
  const total = performance.now() - t0;
  const collected = [...engine.pool.profile(false)].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = collected.reduce((s, [, v]) => s + v.ms, 0);
  log(`profile of one training step (${engine.gemm.backend}): ${total.toFixed(0)} ms, ${kernelMs.toFixed(0)} ms in kernels`);
  for (const [name, v] of collected) {
    log(`  ${name.padEnd(22)} ${String(v.calls).padStart(5)} calls ${v.ms.toFixed(1).padStart(8)} ms ${((100 * v.ms) / total).toFixed(1).padStart(5)} %`);
  }
  log(`  ${"(outside kernels)".padEnd(22)} ${"".padStart(11)} ${(total - kernelMs).toFixed(1).padStart(8)} ms ${((100 * (total - kernelMs)) / total).toFixed(1).padStart(5)} %`);
  return Object.fromEntries(collected.map(([k, v]) => [k, { calls: v.calls, ms: round(v.ms, 2) }]));
}

/** x rounded to `digits` decimals. */
export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
