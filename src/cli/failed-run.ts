/**
 * Undoing a training run that failed before its first checkpoint, in the folder it created:
 * only the files such a run writes are removed, one by one, and a folder only once it is empty,
 * so that whatever else was put there meanwhile (a person's notes, another command's output)
 * stays where it is. Nothing here removes a folder with its contents.
 */
import { readdirSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CHECKPOINT_FILES } from "../train/checkpoint.js";
import { RUN_MARKER } from "./output-guard.js";
import type { RunLock } from "./run-lock.js";

/** The files of a run's folder besides its checkpoint. */
const RUN_FILES = [RUN_MARKER, "metrics.jsonl"];

/** The folder inside a run that keeps its best checkpoint. */
const BEST_DIR = "best";

/** Removes what the failed run holding `lock` wrote in out, releases the lock, then removes the folders it created if they are empty. */
export function removeFailedRun(out: string, lock: RunLock): void {
  // Files go while the lock is held, so that no second run can have started writing the same names.
  removeRunFiles(join(out, BEST_DIR), CHECKPOINT_FILES);
  removeRunFiles(out, [...RUN_FILES, ...CHECKPOINT_FILES]);
  lock.release();
  if (lock.created === null) return;
  removeIfEmpty(join(out, BEST_DIR));
  const top = resolve(lock.created);
  for (let dir = resolve(out); removeIfEmpty(dir) && dir !== top; dir = dirname(dir));
}

/** Removes from dir the files named in names, their journal copies (`.next`) and this process's temporary files. */
function removeRunFiles(dir: string, names: readonly string[]): void {
  const ours = new Set(names.flatMap((n) => [n, `${n}.next`]));
  const temp = new RegExp(`\\.tmp-${process.pid}(-\\d+)?$`);
  for (const name of listOrEmpty(dir)) {
    if (ours.has(name.replace(temp, ""))) rmSync(join(dir, name), { force: true });
  }
}

/** Removes dir if it exists and is empty; whether it is gone now. */
function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
