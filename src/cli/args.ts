/** Flag parsing on node's util.parseArgs, with one-line errors and typed numbers. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

/** Parses argv strictly (unknown flags and stray arguments are errors). */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, command: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false, tokens: true });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.split("\n")[0]} (see \`jepa ${command} --help\`)`);
  }
  // parseArgs keeps the last of repeated flags; a repeated flag is more often a mistake than a wish.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    if (seen.has(token.name)) throw new UsageError(`${command}: --${token.name} is given more than once; give it once`);
    seen.add(token.name);
  }
  return parsed.values;
}

/** `--steps -5` as `--steps=-5`, so that a negative number reaches the range check instead of reading as a flag. */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : null;
    if (name !== null && options[name]?.type === "string" && /^-[0-9.]/.test(argv[i + 1] ?? "")) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
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

const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

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
  // Decimal notation only: Number() would also read "0x1" as 1 and " " as 0.
  if (!DECIMAL.test(value) || !Number.isFinite(n) || !inRange) {
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
