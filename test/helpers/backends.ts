/**
 * The backends a test runs on: WebAssembly always, native where OpenBLAS and koffi load.
 * JEPA_TEST_BACKENDS=wasm,native (CI sets it) makes a missing native backend a failure
 * instead of a skip, so CI cannot pass without testing it.
 */
import type { BackendName } from "../../src/engine/backend.js";
import { loadOpenBlas } from "../../src/engine/openblas.js";

let found: Promise<BackendName[]> | null = null;

/** The backends to test on, each once per process. */
export function testBackends(): Promise<BackendName[]> {
  found ??= resolve();
  return found;
}

async function resolve(): Promise<BackendName[]> {
  const required = process.env.JEPA_TEST_BACKENDS?.split(",").map((s) => s.trim()).filter(Boolean);
  const blas = await loadOpenBlas();
  const native = !("error" in blas);
  if (required) {
    for (const name of required) if (name !== "wasm" && name !== "native") throw new Error(`JEPA_TEST_BACKENDS: unknown backend '${name}'`);
    if (required.includes("native") && !native) throw new Error(`JEPA_TEST_BACKENDS asks for native, which is unavailable: ${blas.error}`);
    return required as BackendName[];
  }
  if (!native) console.log(`# native backend unavailable, testing WebAssembly only: ${blas.error}`);
  return native ? ["wasm", "native"] : ["wasm"];
}
