/**
 * Node-specific start-up: reads the kernel modules from build/, spawns worker_threads and picks
 * the matrix-product backend (native OpenBLAS where asked for and installed, else WebAssembly).
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { compileKernels } from "./kernels.js";
import { Heap } from "./heap.js";
import { KernelPool, type SpawnWorker } from "./pool.js";
import type { KernelModule } from "./kernels.js";
import { Engine } from "./engine.js";
import { defaultBackend, parseBackend, type BackendChoice } from "./backend.js";
import { wasmGemm, type Gemm } from "./gemm.js";
import { nativeGemm } from "./native-gemm.js";
import { loadOpenBlas } from "./openblas.js";

const BUILD_DIR = new URL("../../../build/", import.meta.url);

/** Options of an engine started in Node. */
export interface NodeEngineOptions {
  /** Threads including the main one; default: all cores. */
  threads?: number;
  /** Size of the shared memory in MB; default 2048 (reserved, touched only as used). */
  memoryMB?: number;
  /** Matrix-product backend; default: nodeDefaultBackend() (the CLI's --backend, $JEPA_BACKEND, else wasm). */
  backend?: BackendChoice;
}

/** The pieces an engine is made of: memory, kernel pool and the module variant. */
export interface EngineParts {
  heap: Heap;
  pool: KernelPool;
  kernels: KernelModule;
  gemm: Gemm;
}

const spawnNodeWorker: SpawnWorker = (init) => {
  const worker = new Worker(new URL("./node-worker.js", import.meta.url), { workerData: init });
  worker.unref();
  worker.on("error", (err) => {
    console.error(`error: kernel worker ${init.tid} failed: ${err.message}`);
    process.exit(1);
  });
  return worker;
};

/** Starts the memory and thread pool in Node. */
export async function startNodeEngine(options: NodeEngineOptions = {}): Promise<EngineParts> {
  const threads = options.threads ?? availableParallelism();
  const heap = new Heap(options.memoryMB ?? 2048);
  const kernels = await compileKernels(async (name) => new Uint8Array(await readFile(new URL(name, BUILD_DIR))));
  const pool = await KernelPool.create(heap, kernels.module, threads, spawnNodeWorker);
  try {
    const gemm = await chooseGemm(options.backend ?? nodeDefaultBackend(), pool, heap, kernels.variant);
    return { heap, pool, kernels, gemm };
  } catch (err) {
    await pool.close();
    throw err;
  }
}

/** The process default (the CLI's --backend), else $JEPA_BACKEND, else wasm (what the browser runs). */
export function nodeDefaultBackend(): BackendChoice {
  const env = process.env.JEPA_BACKEND;
  return defaultBackend() ?? (env ? parseBackend(env, "JEPA_BACKEND") : "wasm");
}

let fallbackReported = false;

/** The backend asked for; auto falls back to WebAssembly (saying why once), native insists. */
async function chooseGemm(choice: BackendChoice, pool: KernelPool, heap: Heap, variant: string): Promise<Gemm> {
  if (choice === "wasm") return wasmGemm(pool, heap, variant);
  const blas = await loadOpenBlas();
  if (!("error" in blas)) return nativeGemm(blas, pool, heap);
  if (choice === "native") throw new Error(`--backend native: ${blas.error}`);
  if (!fallbackReported) console.error(`note: native backend unavailable, matrix products run on WebAssembly: ${blas.error}`);
  fallbackReported = true;
  return wasmGemm(pool, heap, variant);
}

/** Starts an engine in Node: memory, threads and tape, ready for model code. */
export async function createNodeEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  const { heap, pool, kernels, gemm } = await startNodeEngine(options);
  return new Engine(heap, pool, kernels.variant, gemm);
}
