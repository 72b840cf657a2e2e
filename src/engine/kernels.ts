/** Loading the WebAssembly kernel module onto a shared memory; no Node-only imports here. */

/** Bytes per WebAssembly page. */
export const PAGE_BYTES = 65536;

/** The kernel module's exports: every kernel takes byte offsets and sizes, returns nothing or a number. */
export type KernelExports = Record<string, (...args: number[]) => number | void>;

/** A compiled kernel module plus the variant name (for reports). */
export interface KernelModule {
  module: WebAssembly.Module;
  variant: "relaxed-simd" | "simd";
}

/** A tiny module using one relaxed-SIMD instruction (f32x4.relaxed_madd), to probe support. */
const V128_ZERO = [253, 12, ...new Array<number>(16).fill(0)];
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 253, 133, 2, 11,
]);

/** Whether this engine validates relaxed-SIMD instructions. */
export function supportsRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * Which module to compile: the best the engine validates, or plain SIMD, whose results are
 * bit-identical to those of an engine without relaxed SIMD (e.g. to compare a browser with Node).
 */
export type KernelPreference = "best" | "simd";

/** Compiles the kernel variant asked for (default: the best the engine supports) from the two module binaries. */
export async function compileKernels(load: (name: string) => Promise<BufferSource>, prefer: KernelPreference = "best"): Promise<KernelModule> {
  const variant = prefer === "best" && supportsRelaxedSimd() ? "relaxed-simd" : "simd";
  const file = variant === "relaxed-simd" ? "kernels-relaxed.wasm" : "kernels.wasm";
  let bytes: BufferSource;
  try {
    bytes = await load(file);
  } catch (err) {
    throw new Error(`cannot read kernel module ${file} (run \`npm run build\`): ${(err as Error).message}`);
  }
  try {
    return { module: await WebAssembly.compile(bytes), variant };
  } catch (err) {
    throw new Error(`kernel module ${file} failed to compile: ${(err as Error).message}`);
  }
}

/** Instantiates the kernel module on a shared memory and returns its exports. */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return instance.exports as unknown as KernelExports;
  } catch (err) {
    throw new Error(`kernel module failed to instantiate: ${(err as Error).message}`);
  }
}
