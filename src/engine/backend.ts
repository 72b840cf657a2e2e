/**
 * Which backend computes an engine's matrix products: the WebAssembly kernels (everywhere,
 * and the browser's only one) or native OpenBLAS (Node, where the library is installed).
 * This file is shared with the browser, so it reads no environment: src/engine/node.ts does.
 */

/** A backend an engine runs on. */
export type BackendName = "wasm" | "native";
/** What a user may ask for: a backend, or auto (native where available, else wasm). */
export type BackendChoice = BackendName | "auto";

/** Every accepted choice, for help texts and errors. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["wasm", "native", "auto"];

let processDefault: BackendChoice | undefined;

/** Parses a backend choice; `source` names where it came from in the error. */
export function parseBackend(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`${source} must be one of ${BACKEND_CHOICES.join(", ")}, got '${value}'`);
}

/** Sets the backend of every engine this process starts without naming one (the CLI's --backend). */
export function setDefaultBackend(choice: BackendChoice): void {
  processDefault = choice;
}

/** The backend set by setDefaultBackend, or undefined when none was. */
export function defaultBackend(): BackendChoice | undefined {
  return processDefault;
}
