/** Entry of a Web Worker in the kernel pool: it receives the pool's shared memory once, then serves jobs. */
import { serveJobs } from "./pool-worker.js";
import type { WorkerInit } from "./pool-protocol.js";

self.addEventListener("message", (event: MessageEvent<WorkerInit>) => serveJobs(event.data), { once: true });
