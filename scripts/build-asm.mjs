// Compiles the AssemblyScript kernels into two WebAssembly modules: plain SIMD, and
// relaxed SIMD (fused multiply-add) for engines that support it. The loader picks one.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const common = [
  "asm/index.ts",
  "--runtime", "stub",
  "--importMemory", "--sharedMemory",
  "--initialMemory", "16", "--maximumMemory", "65536",
  "--enable", "simd", "--enable", "threads",
  "--use", "abort=",
  "-O3", "--noAssert",
];

const variants = [
  { out: "build/kernels.wasm", extra: [] },
  { out: "build/kernels-relaxed.wasm", extra: ["--enable", "relaxed-simd"] },
];

mkdirSync("build", { recursive: true });
for (const v of variants) {
  execFileSync(process.execPath, ["node_modules/assemblyscript/bin/asc.js", ...common, ...v.extra, "-o", v.out], {
    stdio: "inherit",
  });
}
