/** Atomic file writes: a reader sees the old file or the new one, never half of one. */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { makeFolder } from "./folders.js";

/** Writes data to path through a temporary file in the same directory, then renames it. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = writeTemp(path, data);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates path holding data, whole, only if nothing is there: returns false, writing nothing,
 * when path exists. The data is written aside, then hard-linked into place (a link fails rather
 * than replace a file created meanwhile).
 */
export function writeFileExclusive(path: string, data: Uint8Array | string): boolean {
  const tmp = writeTemp(path, data);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes data, synced to disk, to a fresh temporary file beside path; returns its name. */
function writeTemp(path: string, data: Uint8Array | string): string {
  makeFolder(dirname(path));
  const { fd, tmp } = openFreshTemp(path);
  try {
    try {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return tmp;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates `<path>.tmp-<pid>` exclusively (or `.tmp-<pid>-N` when that name is taken), so that a
 * file someone else keeps under such a name is neither truncated nor removed.
 */
function openFreshTemp(path: string): { fd: number; tmp: string } {
  for (let n = 0; ; n++) {
    const tmp = n === 0 ? `${path}.tmp-${process.pid}` : `${path}.tmp-${process.pid}-${n}`;
    try {
      return { fd: openSync(tmp, "wx"), tmp };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n >= 100) throw err;
    }
  }
}
