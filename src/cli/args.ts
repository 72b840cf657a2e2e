/** Flag parsing on node's util.parseArgs, with one-line errors and typed numbers. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

/** Parses argv strictly (unknown flags and stray arguments are errors). */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, command: string) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.split("\n")[0]} (see \`jepa ${command} --help\`)`);
  }
}

/** An integer flag within [min, max], or the default when absent. */
export function intFlag(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** Bounds of a float flag; an exclusive bound is left out of the range. */
export interface FloatRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** A finite number flag within the range, or the default when absent. */
export function floatFlag(value: string | undefined, name: string, fallback: number, range: FloatRange = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false } = range;
  const inRange = (minExclusive ? n > min : n >= min) && (maxExclusive ? n < max : n <= max);
  if (value.trim() === "" || !Number.isFinite(n) || !inRange) {
    throw new UsageError(`--${name} must be a finite number${describeRange(range)}, got '${value}'`);
  }
  return n;
}

function describeRange({ min, max, minExclusive, maxExclusive }: FloatRange): string {
  if (min !== undefined && max !== undefined) return ` in ${minExclusive ? "(" : "["}${min}, ${max}${maxExclusive ? ")" : "]"}`;
  if (min !== undefined) return ` ${minExclusive ? ">" : ">="} ${min}`;
  if (max !== undefined) return ` ${maxExclusive ? "<" : "<="} ${max}`;
  return "";
}
