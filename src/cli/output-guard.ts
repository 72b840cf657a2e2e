/**
 * Output paths that would lose data are refused before any work, with one line: an output
 * that is one of the command's inputs (or holds one), a path inside a checkpoint, a file where
 * a folder is wanted (or the reverse), a non-empty folder that is not a run of the same
 * command, and an existing file that the same command did not write. A folder a command
 * accepts is marked as its run (`.jepa-run`).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { writeFileAtomic, writeFileExclusive } from "../train/atomic.js";
import { hasCheckpoint } from "../train/checkpoint.js";
import { UsageError } from "./errors.js";
import { LOCK_FILE, lockRunDir, type RunLock } from "./run-lock.js";

/** The file that marks a folder as the run of one command. */
export const RUN_MARKER = ".jepa-run";

/**
 * Checks the output folder `out` of `command` (flag `flag`). `isOldRun` recognises a run of the
 * command written before folders were marked (for example, one holding its checkpoint).
 */
export function checkOutputDir(out: string, command: string, inputs: string[], isOldRun: (dir: string) => boolean, flag = "out"): void {
  const what = `--${flag} ${out}`;
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`${what} is a file, not a folder: choose a new or empty folder`);
  checkNotInputOrCheckpoint(out, inputs, what);
  if (!existsSync(out)) return;
  const names = readdirSync(out).filter((n) => n !== LOCK_FILE && !n.startsWith(`${LOCK_FILE}.`));
  if (names.length === 0) return;
  const marked = markedCommand(out);
  if (marked === command || (marked === null && isOldRun(out))) return;
  if (marked !== null) throw new UsageError(`${what} holds a 'jepa ${marked}' run, not a 'jepa ${command}' one: choose a new or empty folder`);
  const shown = names.slice(0, 3).join(", ") + (names.length > 3 ? ", …" : "");
  throw new UsageError(`${what} is a non-empty folder that is not a 'jepa ${command}' run (it holds ${shown}): choose a new or empty folder`);
}

/** Checks out, takes its lock and marks it as command's run: what every command writing a folder does first. */
export function claimOutputDir(out: string, command: string, inputs: string[], isOldRun: (dir: string) => boolean): RunLock {
  checkOutputDir(out, command, inputs, isOldRun);
  const lock = lockRunDir(out, command);
  markOutputDir(out, command);
  return lock;
}

/** Marks out as a run of command, so that rerunning the command resumes there. */
export function markOutputDir(out: string, command: string): void {
  if (markedCommand(out) !== command) writeFileAtomic(join(out, RUN_MARKER), JSON.stringify({ command }) + "\n");
}

/**
 * Checks an output file: not a folder, not an input, not inside a checkpoint, and, if it
 * exists, an earlier output of the same command (`isOwnOutput`), which may be replaced; any
 * other existing file (a report, someone's data) is refused rather than overwritten.
 */
export function checkOutputFile(file: string, inputs: string[], flag: string, command: string, isOwnOutput: (file: string) => boolean): void {
  const what = `--${flag} ${file}`;
  if (existsSync(file) && !statSync(file).isFile()) throw new UsageError(`${what} is not a regular file (a folder?): name a file to write`);
  if (!existsSync(dirname(resolve(file)))) throw new UsageError(`${what}: the folder ${dirname(file)} does not exist`);
  checkNotInputOrCheckpoint(file, inputs, what);
  if (existsSync(file) && statSync(file).size > 0 && !isOwnOutput(file)) {
    throw new UsageError(`${what} already exists and is not a file 'jepa ${command}' wrote: choose a new file name (or remove the file first)`);
  }
}

/**
 * Writes an output file that checkOutputFile accepted, checking it again now: a file created
 * under that name since (during a long evaluation) is kept as it is, and the data goes to a
 * fresh file beside it, named in the UsageError, so that neither is lost.
 */
export function writeOutputFile(file: string, data: Uint8Array | string, flag: string, command: string, isOwnOutput: (file: string) => boolean): void {
  // Absent: created whole, and never in place of a file that appears meanwhile.
  if (writeFileExclusive(file, data)) return;
  if (statSync(file).isFile() && (statSync(file).size === 0 || isOwnOutput(file))) {
    writeFileAtomic(file, data);
    return;
  }
  for (let n = 1; ; n++) {
    const aside = `${file}.${n}`;
    if (writeFileExclusive(aside, data)) {
      throw new UsageError(`--${flag} ${file} appeared during the run and is not a file 'jepa ${command}' wrote: it is left as it was, and the results are in ${aside}`);
    }
  }
}

function checkNotInputOrCheckpoint(out: string, inputs: string[], what: string): void {
  const real = realOrPlanned(out);
  for (const input of inputs) {
    if (!existsSync(input)) continue;
    const r = realpathSync(input);
    if (r === real) throw new UsageError(`${what} is the input ${input}: the command would overwrite what it reads`);
    if (r.startsWith(real + sep)) throw new UsageError(`${what} holds the input ${input}: the command would overwrite what it reads`);
  }
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (hasCheckpoint(dir)) throw new UsageError(`${what} is inside the checkpoint ${dir}: write outside it, or it stops being loadable`);
    if (dirname(dir) === dir) break;
  }
}

/** The real path of p, or of its nearest existing ancestor joined with the rest. */
function realOrPlanned(p: string): string {
  const full = resolve(p);
  if (existsSync(full)) return realpathSync(full);
  const parent = dirname(full);
  return parent === full ? full : join(realOrPlanned(parent), basename(full));
}

/** The command whose run a folder is marked as ("" for an unreadable mark), or null when it is unmarked. */
export function markedCommand(dir: string): string | null {
  try {
    const marker = JSON.parse(readFileSync(join(dir, RUN_MARKER), "utf8")) as { command?: unknown };
    return typeof marker.command === "string" ? marker.command : "";
  } catch {
    return null;
  }
}
