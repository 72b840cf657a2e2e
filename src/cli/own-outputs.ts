/**
 * Recognising a file that a command wrote earlier, so that rerunning the command may replace
 * it while any other file under that name is refused (see checkOutputFile in output-guard.ts).
 * The checks read only as much as they need and never throw: unreadable means "not ours".
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { LATENTS_FORMAT } from "../infer/latents-file.js";
import { BUNDLE_FORMAT } from "../train/bundle.js";

/** The fields every line of a `jepa gsm8k --out` file holds. */
const ITEM_FIELDS = ["question", "gold", "output", "strictCorrect", "flexibleCorrect"];

/** The mark on every line of a `jepa tree eval --out` file. */
export const TREE_EVAL_MARK = { written_by: "jepa tree eval" } as const;

/** Largest safetensors header read when looking for the bundle mark (a bundle's is a few kB). */
const MAX_HEADER_BYTES = 64 << 20;

/** Whether path is a JSON Lines file of `jepa gsm8k --out` items: every line an object with their fields. */
export function isGsm8kItemsFile(path: string): boolean {
  try {
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
    return lines.length > 0 && lines.every((line) => {
      const item = JSON.parse(line) as unknown;
      return typeof item === "object" && item !== null && ITEM_FIELDS.every((k) => k in item);
    });
  } catch {
    return false;
  }
}

/** Whether path is a JSON Lines file of `jepa tree eval --out` rows: every line an object with the mark. */
export function isTreeEvalFile(path: string): boolean {
  try {
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
    return lines.length > 0 && lines.every((line) => (JSON.parse(line) as { written_by?: unknown } | null)?.written_by === TREE_EVAL_MARK.written_by);
  } catch {
    return false;
  }
}

/** Whether path is a checkpoint bundle (`jepa serve --export`): a safetensors file whose metadata carries the bundle format. */
export function isBundleFile(path: string): boolean {
  return safetensorsFormat(path) === BUNDLE_FORMAT;
}

/** Whether path is a latents file (`jepa generate --latents`): a safetensors file whose metadata carries the latents format. */
export function isLatentsFile(path: string): boolean {
  return safetensorsFormat(path) === LATENTS_FORMAT;
}

/** The `format` metadata value of the safetensors file at path, or null when it has none or is not one. */
function safetensorsFormat(path: string): unknown {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) !== 8) return null;
    const length = prefix.readBigUInt64LE(0);
    if (length > BigInt(MAX_HEADER_BYTES)) return null;
    const header = Buffer.alloc(Number(length));
    if (readSync(fd, header, 0, header.length, 8) !== header.length) return null;
    const parsed = JSON.parse(header.toString("utf8")) as { __metadata__?: { format?: unknown } } | null;
    return parsed?.__metadata__?.format ?? null;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
