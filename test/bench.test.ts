// `jepa bench`: both backends measured in one run, and the PyTorch reference at its best.
import { test } from "node:test";
import assert from "node:assert/strict";
import { referenceEnv } from "../bench/torch.js";
import { jepa } from "./helpers/jepa-cli.js";
import { testBackends } from "./helpers/backends.js";

test("the PyTorch reference runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE; this process keeps them", () => {
  const saved = { core: process.env.OPENBLAS_CORETYPE, l2: process.env.OPENBLAS_L2_SIZE };
  process.env.OPENBLAS_CORETYPE = "Haswell";
  process.env.OPENBLAS_L2_SIZE = "1048576";
  try {
    const env = referenceEnv();
    assert.equal(env.OPENBLAS_CORETYPE, undefined);
    assert.equal(env.OPENBLAS_L2_SIZE, undefined);
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(process.env.OPENBLAS_CORETYPE, "Haswell");
  } finally {
    for (const [name, value] of [["OPENBLAS_CORETYPE", saved.core], ["OPENBLAS_L2_SIZE", saved.l2]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("jepa bench measures every available backend under --backend auto", async () => {
  const r = jepa(["bench", "--threads", "1", "--steps", "1", "--warmup", "0", "--no-torch", "--no-single", "--no-latent", "--memory", "512", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { backends: Record<string, { detail: string; train_tok_s: number; matmul_1024_gflops_1t: number }> };
  assert.deepEqual(Object.keys(out.backends).sort(), [...(await testBackends())].sort());
  for (const b of Object.values(out.backends)) assert.ok(b.train_tok_s > 0 && b.matmul_1024_gflops_1t > 0, JSON.stringify(b));
  if (out.backends.native) assert.match(out.backends.native.detail, /^OpenBLAS \S+, \S+ kernels$/);
});
