/**
 * `jepa bench`: the standard workload's training and inference throughput, matmul GFLOP/s on
 * one and on all threads, training on one thread beside all threads, on each backend, and the
 * PyTorch reference measured in the same run, so ratios are quoted against it and not against
 * old numbers.
 */
import { availableParallelism } from "node:os";
import type { BackendName } from "../engine/backend.js";
import { nodeDefaultBackend } from "../engine/node.js";
import { loadOpenBlas } from "../engine/openblas.js";
import { round, runBackend } from "../../bench/backend-run.js";
import { runTorchReference } from "../../bench/torch.js";
import { intFlag, parseFlags } from "./args.js";

/** Help text of `jepa bench`. */
export const BENCH_HELP = `usage: jepa bench [flags]

Measures the standard workload (vocab 512, d 256, 4 layers, 4 heads, MLP 1024 GELU, tied
embeddings, batch 16 x 128 tokens, AdamW): median of --steps steps after --warmup steps, on
both backends (--backend auto, where the native one is installed) or on the one named.

flags:
  --threads N     threads for the main figures (default: all cores, ${availableParallelism()} here)
  --steps N       measured steps (default 10)
  --warmup N      warm-up steps (default 3)
  --no-torch      skip the PyTorch reference
  --no-single     skip the one-thread measurements
  --no-latent     skip the SST-step and latent-rollout workloads
  --profile       print where the time of a training step goes, per kernel
  --matmul        print GFLOP/s of every transpose combination and of a step's products
  --tree          also time a pretraining step of the tree experiment's quick preset
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
  matmul: { type: "boolean" },
  tree: { type: "boolean" },
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
  const options = { threads, steps, warmup, memoryMB, single: !f["no-single"], latent: !f["no-latent"], profile: !!f.profile, matmulTable: !!f.matmul, tree: !!f.tree };
  const result: Record<string, unknown> = { workload: "vocab512-d256-L4-H4-mlp1024-b16x128-adamw", threads, steps, warmup };

  const backends: Record<string, Record<string, unknown>> = {};
  for (const backend of await backendsToMeasure(log)) {
    backends[backend] = await runBackend(backend, { ...options, rss: Object.keys(backends).length === 0 }, log);
  }
  result.backends = backends;

  if (!f["no-torch"]) {
    log(`PyTorch reference, ${threads} thread(s)...`);
    const torch = runTorchReference(threads, steps, warmup);
    if ("error" in torch) {
      log(torch.error);
      result.torch = { error: torch.error };
    } else {
      result.torch = torch;
      for (const r of Object.values(backends)) {
        r.train_vs_torch = round((r.train_tok_s as number) / torch.train_tok_s, 2);
        r.infer_vs_torch = round((r.infer_tok_s as number) / torch.infer_tok_s, 2);
        if (r.peak_rss_mb) r.peak_rss_vs_torch = round((r.peak_rss_mb as number) / torch.peak_rss_mb, 2);
        const matmul = r[`matmul_1024_gflops_${threads}t`] as number | undefined;
        if (matmul && torch.matmul_1024_gflops) r.matmul_vs_torch = round(matmul / torch.matmul_1024_gflops, 2);
      }
    }
  }
  printSummary(result, log);
  if (f.json) console.log(JSON.stringify(result));
}

/** The backend named by --backend, or under auto both (native first) where native loads. */
async function backendsToMeasure(log: (s: string) => void): Promise<BackendName[]> {
  const choice = nodeDefaultBackend();
  if (choice !== "auto") return [choice];
  const blas = await loadOpenBlas();
  if ("error" in blas) {
    log(`native backend unavailable (${blas.error}): measuring WebAssembly only`);
    return ["wasm"];
  }
  return ["native", "wasm"];
}

function printSummary(r: Record<string, unknown>, log: (s: string) => void): void {
  const torch = r.torch as { train_tok_s?: number; infer_tok_s?: number; openblas_core?: string | null; peak_rss_mb?: number; matmul_1024_gflops?: number } | undefined;
  const t = r.threads as number;
  log("");
  for (const [name, b] of Object.entries(r.backends as Record<string, Record<string, unknown>>)) {
    log(`${name} (${b.detail})`);
    const on = `${t} thread${t === 1 ? "" : "s"}`;
    log(`  train      ${b.train_tok_s} tok/s (${on})` + (t > 1 && b.train_tok_s_1t ? `, ${b.train_tok_s_1t} tok/s on 1 thread (x${b.train_scaling})` : ""));
    log(`  inference  ${b.infer_tok_s} tok/s` + (b.train_vs_torch ? `; against PyTorch: x${b.train_vs_torch} train, x${b.infer_vs_torch} inference` : ""));
    log(`  matmul     1024³: ${b[`matmul_1024_gflops_${t}t`]} GFLOP/s on ${on}` + (t > 1 && b.matmul_1024_gflops_1t ? `, ${b.matmul_1024_gflops_1t} on 1` : "") + (b.matmul_vs_torch ? ` (x${b.matmul_vs_torch} PyTorch's torch.mm)` : ""));
    if (b.sst_tok_s) log(`  SST step   ${b.sst_tok_s} tok/s; rollout ${b.rollout_latents_s_cached} latents/s with the KV cache, ${b.rollout_latents_s_recompute} recomputing (x${b.rollout_cache_speedup})`);
    if (b.tree_quick_step_ms) log(`  tree       quick preset pretraining step ${b.tree_quick_step_ms} ms`);
    if (b.peak_rss_mb) log(`  memory     peak RSS ${b.peak_rss_mb} MB` + (b.peak_rss_vs_torch ? ` (x${b.peak_rss_vs_torch} PyTorch's)` : ""));
  }
  if (torch?.train_tok_s) {
    log(`PyTorch    train ${round(torch.train_tok_s)} tok/s, inference ${round(torch.infer_tok_s!)} tok/s, peak RSS ${torch.peak_rss_mb} MB, matmul 1024³ ${torch.matmul_1024_gflops ?? "?"} GFLOP/s, OpenBLAS core ${torch.openblas_core ?? "unknown"}`);
  }
}
