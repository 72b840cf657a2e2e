/** Node-specific start-up: reads the kernel modules from build/ and spawns worker_threads. */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { compileKernels } from "./kernels.js";
import { Heap } from "./heap.js";
import { KernelPool, type SpawnWorker } from "./pool.js";
import type { KernelModule } from "./kernels.js";
import { Engine } from "./engine.js";

const BUILD_DIR = new URL("../../../build/", import.meta.url);

/** Options of an engine started in Node. */
export interface NodeEngineOptions {
  /** Threads including the main one; default: all cores. */
  threads?: number;
  /** Size of the shared memory in MB; default 2048 (reserved, touched only as used). */
  memoryMB?: number;
}

/** The pieces an engine is made of: memory, kernel pool and the module variant. */
export interface EngineParts {
  heap: Heap;
  pool: KernelPool;
  kernels: KernelModule;
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
  return { heap, pool, kernels };
}

/** Starts an engine in Node: memory, threads and tape, ready for model code. */
export async function createNodeEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  const { heap, pool, kernels } = await startNodeEngine(options);
  return new Engine(heap, pool, kernels.variant);
}
