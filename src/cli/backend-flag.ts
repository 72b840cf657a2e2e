/** --backend wasm|native|auto, which every command accepts (it picks how matrix products run). */
import { parseBackend, setDefaultBackend, type BackendChoice } from "../engine/backend.js";
import { UsageError } from "./errors.js";

/** The line added to every command's help. */
export const BACKEND_HELP = `
  --backend B        matrix products on wasm, native (OpenBLAS) or auto (native where installed; default)`;

/**
 * Removes --backend from argv and makes it the default of every engine the command starts;
 * without it, $JEPA_BACKEND or auto. Returns the remaining arguments.
 */
export function applyBackendFlag(argv: string[]): string[] {
  const rest: string[] = [];
  let choice: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--backend") {
      if (i + 1 >= argv.length) throw new UsageError("--backend needs a value: wasm, native or auto");
      choice = argv[++i];
    } else if (arg.startsWith("--backend=")) {
      choice = arg.slice("--backend=".length);
    } else {
      rest.push(arg);
    }
  }
  setDefaultBackend(parsed(choice ?? process.env.JEPA_BACKEND ?? "auto", choice === undefined ? "JEPA_BACKEND" : "--backend"));
  return rest;
}

function parsed(value: string, source: string): BackendChoice {
  try {
    return parseBackend(value, source);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
