/** Entry of a Node worker thread in the kernel pool. */
import { workerData } from "node:worker_threads";
import { serveJobs } from "./pool-worker.js";
import type { WorkerInit } from "./pool-protocol.js";

serveJobs(workerData as WorkerInit);
