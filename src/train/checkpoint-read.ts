/** Reading a checkpoint's files from disk: regular files only, so a link to a device cannot hang a reader. */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** A checkpoint file is never larger than this (the engine's memory is at most 4 GB). */
const MAX_BYTES = 4 * 1024 ** 3;

/** The bytes of the regular file at path; a device, fifo or directory is refused by name. */
export function readRegularFile(path: string): Uint8Array {
  // Non-blocking, so that opening a fifo returns at once instead of waiting for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    if (stat.size > MAX_BYTES) throw new Error(`${path} is too large for a checkpoint file (${stat.size} bytes)`);
    const bytes = new Uint8Array(stat.size);
    let offset = 0;
    while (offset < bytes.length) {
      const n = readSync(fd, bytes, offset, bytes.length - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    // A file that shrank while being read is caught by its hash; the unread tail stays zero.
    return offset === bytes.length ? bytes : bytes.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}
