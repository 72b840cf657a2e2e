/**
 * Node-only: binds OpenBLAS's cblas_sgemm through koffi (an FFI package that ships prebuilt
 * binaries, so nothing is compiled at install). Either may be missing; then the caller is told
 * why in one line and the engine stays on WebAssembly.
 */

/** cblas_sgemm's arguments in order; pointers are absolute addresses. */
export type Sgemm = (
  order: number, transA: number, transB: number, m: number, n: number, k: number,
  alpha: number, a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
) => void;

/** The OpenBLAS entry points the native backend needs. */
export interface OpenBlas {
  sgemm: Sgemm;
  /** Sets OpenBLAS's thread count (it is global to the process); skips the call when unchanged. */
  useThreads(threads: number): void;
  /** The absolute address of the first byte of a (shared) ArrayBuffer, which is never moved. */
  addressOf(buffer: ArrayBufferLike): number;
  /** The kernel set OpenBLAS picked for this CPU, e.g. "SkylakeX". */
  corename: string;
  /** Version and build options, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
  config: string;
}

/** cblas enum values (cblas.h). */
export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

/** Library names to try, most specific first (Debian's pthread build is libopenblas.so.0). */
const LIBRARIES: Record<string, string[]> = {
  linux: ["libopenblas.so.0", "libopenblas.so"],
  darwin: ["libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib"],
  win32: ["libopenblas.dll", "openblas.dll"],
};

let loaded: Promise<OpenBlas | { error: string }> | null = null;

/** Loads koffi and OpenBLAS once per process; resolves to the binding or to why it is unavailable. */
export function loadOpenBlas(): Promise<OpenBlas | { error: string }> {
  loaded ??= bind().catch((err: Error) => ({ error: err.message.split("\n")[0] }));
  return loaded;
}

async function bind(): Promise<OpenBlas> {
  const koffi = await importKoffi();
  const lib = openLibrary(koffi);
  const sgemm = lib.func("void cblas_sgemm(int, int, int, int, int, int, float, intptr_t, int, intptr_t, int, float, intptr_t, int)") as Sgemm;
  const setThreads = lib.func("void openblas_set_num_threads(int)") as (n: number) => void;
  const corename = (lib.func("const char* openblas_get_corename()") as () => string)();
  const config = (lib.func("const char* openblas_get_config()") as () => string)();
  let threads = 0;
  return {
    sgemm, corename, config,
    useThreads(n) {
      if (n !== threads) setThreads((threads = n));
    },
    addressOf: (buffer) => Number(koffi.address(new Uint8Array(buffer, 0, 1))),
  };
}

/** The parts of koffi used here (it is an optional dependency, so its types may be absent). */
interface Koffi {
  load(path: string): { func(signature: string): unknown };
  address(value: unknown): bigint;
}

async function importKoffi(): Promise<Koffi> {
  const name = "koffi"; // not a literal import: the build must not need the package
  try {
    const mod = (await import(name)) as { default?: Koffi } & Koffi;
    return mod.default ?? mod;
  } catch (err) {
    throw new Error(`the koffi package is not installed or has no binary for ${process.platform}-${process.arch} (${(err as Error).message.split("\n")[0]})`);
  }
}

function openLibrary(koffi: Koffi): { func(signature: string): unknown } {
  // $JEPA_OPENBLAS names one library file to use instead (a build of one's own, or none at all).
  const names = process.env.JEPA_OPENBLAS ? [process.env.JEPA_OPENBLAS] : LIBRARIES[process.platform] ?? ["libopenblas.so.0"];
  for (const name of names) {
    try {
      return withEnv(SLEEP_AT_ONCE, () => koffi.load(name));
    } catch {
      // Try the next name.
    }
  }
  throw new Error(`OpenBLAS not found (tried ${names.join(", ")}; on Debian: apt-get install libopenblas0-pthread)`);
}

/**
 * OpenBLAS's threads spin for about 2^28 cycles after each product before they sleep: between
 * products they would take a core from our own workers (measured: 66 ms of CPU in the 100 ms
 * after one product). 2^4 cycles makes them sleep at once. OpenBLAS reads it once, at load.
 */
const SLEEP_AT_ONCE = { OPENBLAS_THREAD_TIMEOUT: "4" };

/** Runs fn with the variables set where the user has not set them, then restores the environment. */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const added = Object.keys(vars).filter((name) => process.env[name] === undefined);
  for (const name of added) process.env[name] = vars[name];
  try {
    return fn();
  } finally {
    for (const name of added) delete process.env[name];
  }
}
