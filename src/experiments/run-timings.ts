/**
 * Wall-clock seconds per stage, kept in outDir/timings.json and added up across invocations,
 * so the report of a resumed run states the time the whole run took, not just its last part.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../train/atomic.js";

/** The seconds recorded so far in outDir (empty for a new run). */
export function loadTimings(outDir: string): Record<string, number> {
  const path = join(outDir, "timings.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, number>) : {};
}

/** Adds a stage's seconds to the record and saves it. */
export function addTiming(outDir: string, timings: Record<string, number>, stage: string, seconds: number): void {
  timings[stage] = (timings[stage] ?? 0) + seconds;
  writeFileAtomic(join(outDir, "timings.json"), JSON.stringify(timings, null, 2) + "\n");
}

/** Runs a synchronous stage and adds its seconds to the record. */
export function timeStage<T>(outDir: string, timings: Record<string, number>, stage: string, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  addTiming(outDir, timings, stage, (performance.now() - t0) / 1000);
  return out;
}

/** Runs an asynchronous stage and adds its seconds to the record. */
export async function timeStageAsync<T>(outDir: string, timings: Record<string, number>, stage: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  addTiming(outDir, timings, stage, (performance.now() - t0) / 1000);
  return out;
}
