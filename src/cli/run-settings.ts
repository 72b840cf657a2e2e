/**
 * What an experiment's stages are trained with. The stages of a run folder resume from their
 * checkpoints, so a rerun into the same --out with flags that change the data or the models
 * (say `jepa tree --shuffle-edges`) would otherwise continue, and report on, stages trained on
 * other data. The whole effective settings object (the preset after every flag, the seed) is
 * recorded in `<out>/settings.json` before the first stage trains, and every stage of the
 * folder is trained with it: a rerun whose settings differ is refused with one line naming the
 * setting and its flag. Recording the whole object, not chosen fields, covers fields added later.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../train/atomic.js";
import { hasCheckpoint } from "../train/checkpoint.js";
import { UsageError } from "./errors.js";

/** The file, in a run folder, that holds the settings its stages are trained with. */
export const SETTINGS_FILE = "settings.json";

/** Which flag sets a setting: the first pattern matching its dotted path ("preset.depth") names it. */
export type FlagOf = [RegExp, string][];

/**
 * Records `settings` as what the stages of run folder `out` are trained with, or throws a
 * UsageError when a stage there was trained with other settings. A folder where no stage has
 * saved yet takes the new settings (nothing was trained with the old ones).
 */
export function checkRunSettings(out: string, settings: object, flags: FlagOf): void {
  const now = JSON.parse(JSON.stringify(settings)) as unknown;
  const path = join(out, SETTINGS_FILE);
  const recorded = readRecorded(path);
  if (recorded !== undefined && trainedStages(out)) {
    const diff = firstDifference(recorded, now, "");
    if (diff !== null) {
      const flag = flags.find(([pattern]) => pattern.test(diff.path))?.[1] ?? "--preset";
      throw new UsageError(`--out ${out} holds stages trained with other settings: ${flag} differs (${diff.path} was ${diff.was}, now ${diff.now}): rerun with the flags it was trained with, or use another --out`);
    }
    return;
  }
  writeFileAtomic(path, JSON.stringify(now, null, 2) + "\n");
}

/** The recorded settings, or undefined when none are (a run from before they were recorded). */
function readRecorded(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as unknown;
  } catch {
    throw new UsageError(`${path} is not the JSON record of a run's settings: restore it, or use another --out`);
  }
}

/** Whether a stage folder of out holds a checkpoint (saved, or being saved). */
function trainedStages(out: string): boolean {
  return readdirSync(out).some((name) => {
    const dir = join(out, name);
    return statSync(dir).isDirectory() && hasCheckpoint(dir);
  });
}

/** The first leaf (in key order) where a and b differ, with both values shown. */
function firstDifference(a: unknown, b: unknown, path: string): { path: string; was: string; now: string } | null {
  if (isRecord(a) && isRecord(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const d = firstDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (d !== null) return d;
    }
    return null;
  }
  const [was, now] = [shown(a), shown(b)];
  return was === now ? null : { path, was, now };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function shown(x: unknown): string {
  return x === undefined ? "unset" : JSON.stringify(x);
}
