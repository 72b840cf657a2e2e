/**
 * Browser start-up: fetches the kernel modules and runs the pool's other threads as Web Workers.
 * A Web Worker can share the engine's memory only on a cross-origin isolated page (COOP and
 * COEP headers, as `jepa serve` sends), so elsewhere the engine runs on the page's thread alone.
 */
import { Engine } from "./engine.js";
import { Heap } from "./heap.js";
import { compileKernels, type KernelPreference } from "./kernels.js";
import { KernelPool, type SpawnWorker } from "./pool.js";

// Written out as literals so the bundler finds the modules and ships them with the page.
const KERNEL_URLS: Record<string, URL> = {
  "kernels.wasm": new URL("../../build/kernels.wasm", import.meta.url),
  "kernels-relaxed.wasm": new URL("../../build/kernels-relaxed.wasm", import.meta.url),
};

/** Options of an engine started in a browser. */
export interface BrowserEngineOptions {
  /** Threads including the page's own; default: browserThreads(). */
  threads?: number;
  /** Size of the shared memory in MB (default 256). */
  memoryMB?: number;
  /** Kernel variant (default: the best the browser supports). */
  kernels?: KernelPreference;
}

/** Threads this page can use: every core (up to 8) when cross-origin isolated, else only its own. */
export function browserThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 8));
}

/** Starts an engine in a browser: memory, kernel threads and tape, ready for model code. */
export async function createBrowserEngine(options: BrowserEngineOptions = {}): Promise<Engine> {
  const threads = options.threads ?? browserThreads();
  if (threads > 1 && !globalThis.crossOriginIsolated) throw new Error("more than one thread needs a cross-origin isolated page (served with COOP and COEP headers)");
  const heap = newHeap(options.memoryMB ?? 256);
  const kernels = await compileKernels(fetchKernel, options.kernels);
  const failures: string[] = [];
  const spawn: SpawnWorker = (init) => {
    const worker = new Worker(new URL("./browser-worker.ts", import.meta.url), { type: "module", name: `kernels-${init.tid}` });
    worker.addEventListener("error", (e) => failures.push(e.message || "the worker script failed to load"));
    worker.postMessage(init);
    return worker;
  };
  const pool = await startedOrFailed(KernelPool.create(heap, kernels.module, threads, spawn), failures);
  return new Engine(heap, pool, kernels.variant);
}

function newHeap(megabytes: number): Heap {
  try {
    return new Heap(megabytes);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) {
      // Some browsers allow shared WebAssembly memory only on cross-origin isolated pages.
      throw new Error(`this browser cannot allocate the engine's ${megabytes} MB of shared WebAssembly memory here (${err.message}); open the page through \`jepa serve\``);
    }
    throw err;
  }
}

async function fetchKernel(name: string): Promise<ArrayBuffer> {
  const url = KERNEL_URLS[name];
  if (!url) throw new Error(`no URL for kernel module ${name}`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** The started pool, or an error as soon as a worker reports one (rather than at the pool's 30 s start-up timeout). */
async function startedOrFailed(starting: Promise<KernelPool>, failures: string[]): Promise<KernelPool> {
  let settled = false;
  // Also marks the promise handled: after a worker failure nobody awaits it any more.
  starting.then(() => (settled = true), () => (settled = true));
  while (!settled) {
    if (failures.length > 0) throw new Error(`a kernel worker failed to start: ${failures[0]}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return starting;
}
