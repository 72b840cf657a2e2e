/**
 * One writer per output folder. A run takes `<out>/.jepa-lock`, a file holding its pid, host
 * and command, created exclusively; a second run on the same folder is refused with one line.
 * A lock whose process is gone (killed with SIGKILL, the machine rebooted) is stale and taken over.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.js";

/** The lock file's name inside the folder it guards. */
export const LOCK_FILE = ".jepa-lock";

/** A held lock. */
export interface RunLock {
  /** Removes the lock file, if it is still this process's. */
  release(): void;
  /** The topmost folder that taking the lock created (dir or an ancestor), or null if dir existed. */
  created: string | null;
}

interface Owner {
  pid: number;
  host: string;
  command: string;
}

/** Takes the lock of dir (created if needed) for `command`, or throws a UsageError naming the owner. */
export function lockRunDir(dir: string, command: string): RunLock {
  refuseLockedAncestor(dir);
  const created = mkdirSync(dir, { recursive: true }) ?? null;
  const path = join(dir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), command, since: new Date().toISOString() }) + "\n";
  // More than one round: taking over a stale lock is followed by another try.
  for (let round = 0; round < 3; round++) {
    if (linkFresh(path, mine)) {
      const lock = { release: () => releaseIfMine(path, mine), created };
      process.once("exit", lock.release);
      return lock;
    }
    const seen = readText(path);
    if (seen === null) continue;
    const owner = parseOwner(seen);
    if (owner && isAlive(owner)) {
      throw new UsageError(`${dir} is in use by another run (jepa ${owner.command}, pid ${owner.pid}): wait for it to end, or use another --out (if no such process runs, delete ${path})`);
    }
    takeOverStale(path, seen);
  }
  throw new UsageError(`${dir}: could not take the lock ${path} (another run is starting there)`);
}

/** A folder inside another run's live folder (say, one stage of a running experiment) is that run's too. */
function refuseLockedAncestor(dir: string): void {
  for (let up = dirname(resolve(dir)); ; up = dirname(up)) {
    const text = readText(join(up, LOCK_FILE));
    const owner = text === null ? null : parseOwner(text);
    if (owner && isAlive(owner)) throw new UsageError(`${dir} is inside ${up}, in use by another run (jepa ${owner.command}, pid ${owner.pid}): use another --out`);
    if (dirname(up) === up) return;
  }
}

/** Creates path holding text, whole or not at all: written aside, then hard-linked (which fails if path exists). */
function linkFresh(path: string, text: string): boolean {
  const tmp = `${path}.new-${process.pid}`;
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return false;
  } finally {
    unlinkSync(tmp);
  }
}

/** Moves a stale lock aside; if another run replaced it meanwhile, puts that one back. */
function takeOverStale(path: string, seen: string): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  if (readText(aside) !== seen) {
    try {
      linkSync(aside, path);
    } catch {
      // A third run took the lock meanwhile; the one moved aside had just been taken too late.
    }
  }
  unlinkSync(aside);
}

function releaseIfMine(path: string, mine: string): void {
  try {
    if (readText(path) === mine) unlinkSync(path);
  } catch {
    // Already gone (the run's folder was removed).
  }
}

function isAlive(owner: Owner): boolean {
  // A process on another machine (a shared file system) cannot be checked: treat it as alive.
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return Number.isSafeInteger(o.pid) && typeof o.host === "string" && typeof o.command === "string" ? (o as Owner) : null;
  } catch {
    return null;
  }
}

function readText(path: string): string | null {
  try {
    return existsSync(path) ? readFileSync(path, "utf8") : null;
  } catch {
    return null;
  }
}
