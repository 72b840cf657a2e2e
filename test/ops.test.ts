// Every op against a float64 reference: forward values, and gradients by finite differences.
import { after, before, describe, test } from "node:test";
import { createNodeEngine } from "../src/engine/node.js";
import type { Engine } from "../src/engine/engine.js";
import { add, mul, scale } from "../src/engine/ops/basic.js";
import { linear, matmul } from "../src/engine/ops/linalg.js";
import { headNorm, l2Normalize, rmsNorm } from "../src/engine/ops/norm.js";
import { gelu } from "../src/engine/ops/activation.js";
import { embedding } from "../src/engine/ops/embedding.js";
import { cosineLoss, crossEntropy } from "../src/engine/ops/loss.js";
import { concatSeq, sliceSeq, splitLast } from "../src/engine/ops/sequence.js";
import { addGaussianNoise } from "../src/engine/ops/noise.js";
import { Rng } from "../src/engine/rng.js";
import { gradCheck } from "./helpers/gradcheck.js";
import { testBackends } from "./helpers/backends.js";
import { refAttention, refCosineLoss, refCrossEntropy, refGelu, refL2, refMatmul, refRmsNorm } from "./helpers/reference.js";
import { attention } from "../src/engine/ops/attention.js";

for (const backend of await testBackends()) {
  describe(`ops on ${backend}`, () => {
    let engine: Engine;
    before(async () => {
      engine = await createNodeEngine({ threads: 2, memoryMB: 128, backend });
    });
    after(async () => {
      await engine.close();
    });

    describe("elementwise", () => {
      test("add", () => gradCheck(engine, { inputs: [{ shape: [3, 5] }, { shape: [3, 5] }], run: ([a, b]) => add(a, b), reference: ([a, b]) => a.map((v, i) => v + b[i]) }));
      test("mul", () => gradCheck(engine, { inputs: [{ shape: [7, 3] }, { shape: [7, 3] }], run: ([a, b]) => mul(a, b), reference: ([a, b]) => a.map((v, i) => v * b[i]) }));
      test("scale", () => gradCheck(engine, { inputs: [{ shape: [37] }], run: ([a]) => scale(a, -0.7), reference: ([a]) => a.map((v) => -0.7 * v) }));
      test("gelu", () => gradCheck(engine, { inputs: [{ shape: [4, 9] }], run: ([a]) => gelu(a), reference: ([a]) => refGelu(a), forwardTol: 2e-6 }));
      test("add reused input accumulates both paths", () =>
        gradCheck(engine, { inputs: [{ shape: [2, 6] }], run: ([a]) => add(a, mul(a, a)), reference: ([a]) => a.map((v) => v + v * v) }));
    });

    describe("matmul", () => {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          test(`transA=${transA} transB=${transB}`, () => {
            const [m, n, k] = [5, 7, 6];
            gradCheck(engine, {
              inputs: [{ shape: transA ? [k, m] : [m, k] }, { shape: transB ? [n, k] : [k, n] }],
              run: ([a, b]) => matmul(a, b, { transA, transB }),
              reference: ([a, b]) => refMatmul(a, b, m, n, k, transA, transB),
            });
          });
        }
      }
      test("batched with shared right operand", () => {
        const [batch, m, n, k] = [3, 4, 5, 6];
        gradCheck(engine, {
          inputs: [{ shape: [batch, m, k] }, { shape: [n, k] }],
          run: ([a, b]) => matmul(a, b, { transB: true }),
          reference: ([a, b]) => {
            const out = new Float64Array(batch * m * n);
            for (let i = 0; i < batch; i++) out.set(refMatmul(a.subarray(i * m * k, (i + 1) * m * k), b, m, n, k, false, true), i * m * n);
            return out;
          },
        });
      });
      test("batched, both operands batched and transposed", () => {
        const [batch, m, n, k] = [2, 3, 4, 5];
        gradCheck(engine, {
          inputs: [{ shape: [batch, k, m] }, { shape: [batch, n, k] }],
          run: ([a, b]) => matmul(a, b, { transA: true, transB: true }),
          reference: ([a, b]) => {
            const out = new Float64Array(batch * m * n);
            for (let i = 0; i < batch; i++) out.set(refMatmul(a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * n * k, (i + 1) * n * k), m, n, k, true, true), i * m * n);
            return out;
          },
        });
      });
      test("linear with bias", () => {
        gradCheck(engine, {
          inputs: [{ shape: [2, 3, 6] }, { shape: [4, 6] }, { shape: [4] }],
          run: ([x, w, b]) => linear(x, w, b),
          reference: ([x, w, b]) => refMatmul(x, w, 6, 4, 6, false, true).map((v, i) => v + b[i % 4]),
        });
      });
    });

    describe("normalisation", () => {
      test("rmsNorm with gain", () =>
        gradCheck(engine, { inputs: [{ shape: [5, 12] }, { shape: [12] }], run: ([x, g]) => rmsNorm(x, g), reference: ([x, g]) => refRmsNorm(x, 12, g) }));
      test("rmsNorm without gain, odd width", () =>
        gradCheck(engine, { inputs: [{ shape: [4, 7] }], run: ([x]) => rmsNorm(x, null), reference: ([x]) => refRmsNorm(x, 7, null) }));
      test("headNorm (QK-Norm) normalises each head separately", () =>
        gradCheck(engine, { inputs: [{ shape: [2, 3, 16] }], run: ([x]) => headNorm(x, 4), reference: ([x]) => refRmsNorm(x, 4, null) }));
      test("l2Normalize", () =>
        gradCheck(engine, { inputs: [{ shape: [6, 10] }], run: ([x]) => l2Normalize(x), reference: ([x]) => refL2(x, 10) }));
    });

    describe("embedding and losses", () => {
      test("embedding gathers rows and scatter-adds repeated ids", () => {
        const ids = [3, 1, 3, 0, 3, 2];
        gradCheck(engine, {
          inputs: [{ shape: [5, 4] }],
          run: ([w]) => embedding(w, engine.fromArray(ids, [2, 3], { dtype: "i32" })),
          reference: ([w]) => Float64Array.from(ids.flatMap((id) => Array.from(w.subarray(id * 4, id * 4 + 4)))),
        });
      });
      test("crossEntropy with ignored targets", () => {
        const targets = Int32Array.from([2, -1, 0, 6, -1, 1]);
        gradCheck(engine, {
          inputs: [{ shape: [6, 7] }],
          run: ([x]) => crossEntropy(x, engine.fromArray(targets, [6], { dtype: "i32" })),
          reference: ([x]) => Float64Array.of(refCrossEntropy(x, targets, 7)),
        });
      });
      test("cosineLoss with a mask, gradients to both sides", () => {
        const mask = Float64Array.from([1, 0, 1, 1, 0]);
        gradCheck(engine, {
          inputs: [{ shape: [5, 8] }, { shape: [5, 8] }],
          run: ([p, t]) => cosineLoss(p, t, engine.fromArray(Float32Array.from(mask), [5]), 4),
          reference: ([p, t]) => Float64Array.of(refCosineLoss(p, t, 8, mask, 4)),
        });
      });
      test("cosineLoss with a stop-gradient target", () => {
        gradCheck(engine, {
          inputs: [{ shape: [3, 6] }, { shape: [3, 6], grad: false }],
          run: ([p, t]) => cosineLoss(p, t, null, 2.5),
          reference: ([p, t]) => Float64Array.of(refCosineLoss(p, t, 6, null, 2.5)),
        });
      });
    });

    describe("sequence ops", () => {
      test("concatSeq", () =>
        gradCheck(engine, {
          inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 4] }],
          run: ([a, b]) => concatSeq([a, b]),
          reference: ([a, b]) => {
            const out: number[] = [];
            for (let i = 0; i < 2; i++) out.push(...a.subarray(i * 12, i * 12 + 12), ...b.subarray(i * 4, i * 4 + 4));
            return Float64Array.from(out);
          },
        }));
      test("sliceSeq", () =>
        gradCheck(engine, {
          inputs: [{ shape: [2, 5, 3] }],
          run: ([x]) => sliceSeq(x, 1, 3),
          reference: ([x]) => Float64Array.from([...x.subarray(3, 12), ...x.subarray(18, 27)]),
        }));
      for (const piece of [0, 1]) {
        test(`splitLast piece ${piece}`, () =>
          gradCheck(engine, {
            inputs: [{ shape: [3, 7] }],
            run: ([x]) => splitLast(x, [2, 5])[piece],
            reference: ([x]) => Float64Array.from(Array.from(x).filter((_, i) => (i % 7 < 2) === (piece === 0))),
          }));
      }
      test("addGaussianNoise passes the gradient through", () => {
        gradCheck(engine, {
          inputs: [{ shape: [4, 5] }],
          run: ([x]) => addGaussianNoise(x, 0.1, new Rng(7)),
          reference: ([x]) => {
            const rng = new Rng(7);
            return x.map((v) => v + Math.fround(0.1 * rng.normal()));
          },
        });
      });
    });

    describe("attention", () => {
      const B = 2, H = 2, dh = 4, A = H * dh;
      const cases: Array<{ name: string; Tq: number; Tk: number; causal: boolean; mask?: number[]; rope?: boolean; scale?: number }> = [
        { name: "causal with a sharper softmax scale (attnScale 3)", Tq: 4, Tk: 4, causal: true, rope: true, scale: 3 / 2 },
        { name: "causal self-attention with RoPE", Tq: 5, Tk: 5, causal: true, rope: true },
        { name: "causal, queries are the last positions (KV cache)", Tq: 2, Tk: 5, causal: true, rope: true },
        { name: "bidirectional with key padding", Tq: 4, Tk: 4, causal: false, mask: [1, 1, 1, 0, 1, 1, 0, 0] },
        { name: "cross-attention", Tq: 3, Tk: 6, causal: false },
      ];
      for (const c of cases) {
        test(c.name, () => {
          const mask = c.mask ? Float64Array.from(c.mask) : null;
          const rope = c.rope ? { base: 10000, qPos0: c.Tk - c.Tq, kPos0: 0 } : null;
          gradCheck(engine, {
            inputs: [{ shape: [B, c.Tq, A] }, { shape: [B, c.Tk, A] }, { shape: [B, c.Tk, A] }],
            run: ([q, k, v]) =>
              attention(q, k, v, { heads: H, causal: c.causal, mask: mask && engine.fromArray(Float32Array.from(mask), [B, c.Tk]), rope, scale: c.scale }),
            reference: ([q, k, v]) => refAttention(q, k, v, { B, Tq: c.Tq, Tk: c.Tk, H, dh, causal: c.causal, mask, rope, scale: c.scale }),
          });
        });
      }
    });
  });
}
