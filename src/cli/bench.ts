/**
 * `jepa bench`: the standard workload's training and inference throughput, matmul GFLOP/s on
 * one and on all threads, training on one thread beside all threads, and the PyTorch reference
 * measured in the same run, so ratios are quoted against it and not against old numbers.
 */
import { availableParallelism } from "node:os";
import { createNodeEngine } from "../engine/node.js";
import type { Engine } from "../engine/engine.js";
import { measureMatmul } from "../../bench/matmul.js";
import { runStandardWorkload } from "../../bench/standard.js";
import { runTorchReference } from "../../bench/torch.js";
import { runLatentWorkloads } from "../../bench/latent.js";
import { intFlag, parseFlags } from "./args.js";

/** Help text of `jepa bench`. */
export const BENCH_HELP = `usage: jepa bench [flags]

Measures the standard workload (vocab 512, d 256, 4 layers, 4 heads, MLP 1024 GELU, tied
embeddings, batch 16 x 128 tokens, AdamW): median of --steps steps after --warmup steps.

flags:
  --threads N     threads for the main figures (default: all cores, ${availableParallelism()} here)
  --steps N       measured steps (default 10)
  --warmup N      warm-up steps (default 3)
  --no-torch      skip the PyTorch reference
  --no-single     skip the one-thread measurements
  --no-latent     skip the SST-step and latent-rollout workloads
  --profile       print where the time of a training step goes, per kernel
  --memory MB     engine memory to reserve (default 2048)
  --json          print one JSON object as the last stdout line`;

const FLAGS = {
  threads: { type: "string" },
  steps: { type: "string" },
  warmup: { type: "string" },
  "no-torch": { type: "boolean" },
  "no-single": { type: "boolean" },
  "no-latent": { type: "boolean" },
  profile: { type: "boolean" },
  memory: { type: "string" },
  json: { type: "boolean" },
} as const;

/** Runs `jepa bench`. */
export async function benchCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "bench");
  const threads = intFlag(f.threads, "threads", availableParallelism(), 1, 256);
  const steps = intFlag(f.steps, "steps", 10, 1, 10_000);
  const warmup = intFlag(f.warmup, "warmup", 3, 0, 10_000);
  const memoryMB = intFlag(f.memory, "memory", 2048, 64, 4096);
  const log = (line: string) => console.error(line);
  const result: Record<string, unknown> = { workload: "vocab512-d256-L4-H4-mlp1024-b16x128-adamw", threads, steps, warmup };

  const engine = await createNodeEngine({ threads, memoryMB });
  result.kernels = engine.variant;
  log(`engine: ${threads} thread(s), ${engine.variant} kernels, node ${process.version}`);
  const main = measureWorkload(engine, steps, warmup, log);
  result.train_tok_s = round(main.trainTokS);
  result.infer_tok_s = round(main.inferTokS);
  result.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024);
  result.engine_peak_arena_mb = round(engine.heap.usage().peakArena / 1048576);
  result[`matmul_1024_gflops_${threads}t`] = round(measureMatmul(engine.pool, engine.heap, { m: 1024, n: 1024, k: 1024 }, 2), 1);
  if (!f["no-latent"]) {
    log("latent workloads: SST step, rollout with and without the KV cache...");
    const latent = runLatentWorkloads(engine, { steps, warmup });
    result.sst_tok_s = round(latent.sstTokS);
    result.rollout_latents_s_cached = round(latent.rolloutCachedLatentsS);
    result.rollout_latents_s_recompute = round(latent.rolloutRecomputeLatentsS);
    result.rollout_cache_speedup = round(latent.rolloutCachedLatentsS / latent.rolloutRecomputeLatentsS, 2);
  }
  if (f.profile) result.profile = profileStep(engine, log);
  await engine.close();

  if (!f["no-single"] && threads > 1) {
    const single = await createNodeEngine({ threads: 1, memoryMB });
    result.matmul_1024_gflops_1t = round(measureMatmul(single.pool, single.heap, { m: 1024, n: 1024, k: 1024 }, 2), 1);
    const one = measureWorkload(single, steps, warmup, log, false);
    result.train_tok_s_1t = round(one.trainTokS);
    result.train_scaling = round(main.trainTokS / one.trainTokS, 2);
    await single.close();
  }

  if (!f["no-torch"]) {
    log(`PyTorch reference, ${threads} thread(s)...`);
    const torch = runTorchReference(threads, steps, warmup);
    if ("error" in torch) {
      log(torch.error);
      result.torch = { error: torch.error };
    } else {
      result.torch = torch;
      result.train_vs_torch = round(main.trainTokS / torch.train_tok_s, 2);
      result.infer_vs_torch = round(main.inferTokS / torch.infer_tok_s, 2);
    }
  }
  printSummary(result, log);
  if (f.json) console.log(JSON.stringify(result));
}

function measureWorkload(engine: Engine, steps: number, warmup: number, log: (s: string) => void, infer = true) {
  const label = `${engine.threads} thread${engine.threads > 1 ? "s" : ""}`;
  return runStandardWorkload(engine, {
    steps, warmup, skipInference: !infer,
    onStep: (phase, step, seconds) => {
      const tag = step < warmup ? "warm-up" : `${step - warmup + 1}/${steps}`;
      log(`  ${label} ${phase} step ${tag}: ${(seconds * 1000).toFixed(0)} ms, ${Math.round(2048 / seconds)} tok/s`);
    },
  });
}

/** Kernel time shares of one training step. */
function profileStep(engine: Engine, log: (s: string) => void): Record<string, { calls: number; ms: number }> {
  engine.pool.profile(true);
  const t0 = performance.now();
  runStandardWorkload(engine, { steps: 1, warmup: 0, skipInference: true });
  const total = performance.now() - t0;
  const collected = [...engine.pool.profile(false)].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = collected.reduce((s, [, v]) => s + v.ms, 0);
  log(`profile of one training step: ${total.toFixed(0)} ms, ${kernelMs.toFixed(0)} ms in kernels`);
  for (const [name, v] of collected) {
    log(`  ${name.padEnd(22)} ${String(v.calls).padStart(5)} calls ${v.ms.toFixed(1).padStart(8)} ms ${((100 * v.ms) / total).toFixed(1).padStart(5)} %`);
  }
  log(`  ${"(outside kernels)".padEnd(22)} ${"".padStart(11)} ${(total - kernelMs).toFixed(1).padStart(8)} ms ${((100 * (total - kernelMs)) / total).toFixed(1).padStart(5)} %`);
  return Object.fromEntries(collected.map(([k, v]) => [k, { calls: v.calls, ms: round(v.ms, 2) }]));
}

function printSummary(r: Record<string, unknown>, log: (s: string) => void): void {
  const torch = r.torch as { train_tok_s?: number; infer_tok_s?: number } | undefined;
  log("");
  log(`train      ${r.train_tok_s} tok/s (${r.threads} threads)` + (r.train_tok_s_1t ? `, ${r.train_tok_s_1t} tok/s on 1 thread (x${r.train_scaling})` : ""));
  log(`inference  ${r.infer_tok_s} tok/s`);
  if (torch?.train_tok_s) log(`PyTorch    train ${round(torch.train_tok_s)} tok/s, inference ${round(torch.infer_tok_s!)} tok/s; ours: x${r.train_vs_torch} train, x${r.infer_vs_torch} inference`);
  log(`matmul     1024³: ${r[`matmul_1024_gflops_${r.threads}t`]} GFLOP/s on ${r.threads} threads` + (r.matmul_1024_gflops_1t ? `, ${r.matmul_1024_gflops_1t} on 1` : ""));
  if (r.sst_tok_s) log(`SST step   ${r.sst_tok_s} tok/s; rollout ${r.rollout_latents_s_cached} latents/s with the KV cache, ${r.rollout_latents_s_recompute} recomputing (x${r.rollout_cache_speedup})`);
  log(`memory     peak RSS ${r.peak_rss_mb} MB`);
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
