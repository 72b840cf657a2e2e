/**
 * Folders a run writes into (its --out, a stage, best/, evals/). A user's file under such a name
 * gets one line naming it and what to do, instead of the system's `EEXIST: file already exists, mkdir`.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Creates the folder path and its parents, like `mkdir -p`; a file in the way is named in the error. */
export function makeFolder(path: string): void {
  checkNoFileInWay(path);
  mkdirSync(path, { recursive: true });
}

/** Throws one line when path, or a folder above it, exists as something other than a folder. */
export function checkNoFileInWay(path: string): void {
  const full = resolve(path);
  for (let p = full; ; p = dirname(p)) {
    if (existsSync(p) && !statSync(p).isDirectory()) {
      throw new Error(`${p} is a file where jepa keeps a folder${p === full ? "" : ` (for ${path})`}: move or rename it, then rerun`);
    }
    if (dirname(p) === p) return;
  }
}
