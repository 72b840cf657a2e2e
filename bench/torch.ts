/** Runs the PyTorch reference of the standard workload (bench/torch_reference.py), if torch is installed. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What the PyTorch reference reports. */
export interface TorchResult {
  train_tok_s: number;
  infer_tok_s: number;
  threads: number;
  torch_version: string;
  attention: string;
  /** OpenBLAS's kernel set in that process (null when torch does not use OpenBLAS). */
  openblas_core: string | null;
  peak_rss_mb: number;
  /** GFLOP/s of one 1024³ float32 product through torch.mm (its BLAS's sgemm). */
  matmul_1024_gflops?: number;
}

/**
 * Settings that hold OpenBLAS below its best on this CPU (a machine may set OPENBLAS_CORETYPE
 * to Haswell, i.e. 256-bit kernels on an AVX-512 core): removed for the reference only, so it
 * is measured at its best.
 */
const HANDICAPS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/** This process's environment without the OpenBLAS handicaps, for the reference's process only. */
export function referenceEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of HANDICAPS) delete env[name];
  return env;
}

const SCRIPT = fileURLToPath(new URL("../../bench/torch_reference.py", import.meta.url));

/** Python interpreters to try: $JEPA_PYTHON, then Debian's (where python3-torch installs), then PATH. */
function candidates(): string[] {
  return [process.env.JEPA_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => !!p);
}

/** The first interpreter that can import torch, or null. */
export function findTorchPython(): string | null {
  for (const python of candidates()) {
    const probe = spawnSync(python, ["-c", "import torch"], { stdio: "ignore", timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

/** Runs the reference with the given threads and steps; null with a reason when it cannot. */
export function runTorchReference(threads: number, steps: number, warmup: number): TorchResult | { error: string } {
  const python = findTorchPython();
  if (!python) return { error: "PyTorch not found (install Debian's python3-torch, or set JEPA_PYTHON)" };
  const run = spawnSync(python, [SCRIPT, "--threads", String(threads), "--steps", String(steps), "--warmup", String(warmup)], {
    encoding: "utf8",
    timeout: 15 * 60_000,
    env: referenceEnv(),
  });
  const last = run.stdout?.trim().split("\n").pop() ?? "";
  if (run.status !== 0) return { error: `PyTorch reference failed: ${(run.stderr || last).trim().split("\n").pop()}` };
  try {
    return JSON.parse(last) as TorchResult;
  } catch {
    return { error: `PyTorch reference printed no JSON: ${last.slice(0, 200)}` };
  }
}
