/**
 * One writer per output folder. A run takes `<out>/.jepa-lock`, a file holding its pid, host
 * and command, created exclusively; a second run on the same folder is refused with one line.
 * A lock whose process is gone (killed with SIGKILL, the machine rebooted) is stale and taken over;
 * of several runs taking it over at once, exactly one gets it (see takeOverStale).
 */
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
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
  const mine = ownerText(command);
  // More than one round: taking over a stale lock (or waiting for another run to) is followed by another try.
  for (let round = 0; round < 10; round++) {
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

/**
 * Removes the stale file at path if it still holds `seen`. Removing is a compare-and-delete:
 * only the run that exclusively creates `<path>.claim-<hash of seen>` may remove that content,
 * so no run acting on an old reading can remove a lock taken since (it would hold other content,
 * and a fresh lock cannot take a path that still exists). A claim left by a run that died while
 * taking over is itself stale and removed the same way, a few levels deep at most.
 */
function takeOverStale(path: string, seen: string, depth = 0): void {
  const claim = `${path}.claim-${createHash("sha256").update(seen).digest("hex").slice(0, 16)}`;
  if (!linkFresh(claim, ownerText("takeover"))) {
    const other = readText(claim);
    const claimer = other === null ? null : parseOwner(other);
    if (other !== null && claimer && !isAlive(claimer) && depth < 3) takeOverStale(claim, other, depth + 1);
    else pause(20); // Another run is taking this lock over: let it finish.
    return;
  }
  try {
    if (readText(path) === seen) unlinkSync(path);
  } finally {
    unlinkSync(claim);
  }
}

/** This process's owner record; the nonce makes every lock's text unique, which takeOverStale relies on. */
function ownerText(command: string): string {
  return JSON.stringify({ pid: process.pid, host: hostname(), command, since: new Date().toISOString(), nonce: randomBytes(8).toString("hex") }) + "\n";
}

/** Blocks for ms milliseconds (taking a lock is synchronous). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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
