import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseSafetensors, serializeSafetensors, toFloat32, toInt32, toBigInt64, dtypeSize,
  SafetensorsError, type Dtype, type TensorInput,
} from "../src/engine/safetensors.js";

const enc = new TextEncoder();

/** Builds a file by hand: u64 LE header length, header text as given, raw data bytes. */
function rawFile(header: string, data: ArrayLike<number> = [], lengthOverride?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function rejects(bytes: Uint8Array, fragment: string | RegExp): void {
  assert.throws(() => parseSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${String(e)}`);
    if (typeof fragment === "string") assert.ok(e.message.includes(fragment), `message "${e.message}" lacks "${fragment}"`);
    else assert.match(e.message, fragment);
    return true;
  });
}

const entry = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

/** One tensor of every dtype, with distinctive values. */
function sampleTensors(): TensorInput[] {
  return [
    { name: "f64", dtype: "F64", shape: [2], data: new Float64Array([1.5, -1e300]) },
    { name: "f32", dtype: "F32", shape: [2, 2], data: new Float32Array([1, -2, 0.5, 3.25]) },
    { name: "f16", dtype: "F16", shape: [6], data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000, 0x3555]) },
    { name: "bf16", dtype: "BF16", shape: [3], data: new Uint16Array([0x3f80, 0xc040, 0xff80]) },
    { name: "i64", dtype: "I64", shape: [2], data: new BigInt64Array([-(2n ** 62n), 7n]) },
    { name: "u64", dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    { name: "i32", dtype: "I32", shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) },
    { name: "u32", dtype: "U32", shape: [1], data: new Uint32Array([4e9]) },
    { name: "i16", dtype: "I16", shape: [2], data: new Int16Array([-32768, 5]) },
    { name: "u16", dtype: "U16", shape: [1], data: new Uint16Array([65535]) },
    { name: "i8", dtype: "I8", shape: [2], data: new Int8Array([-128, 127]) },
    { name: "u8", dtype: "U8", shape: [3], data: new Uint8Array([0, 1, 255]) },
    { name: "bool", dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
    { name: "scalar", dtype: "F32", shape: [], data: new Float32Array([42]) },
    { name: "empty", dtype: "F32", shape: [3, 0, 5], data: new Float32Array(0) },
    { name: "blocks.0.w", dtype: "F32", shape: [1, 1, 2], data: new Float32Array([9, 8]) },
  ];
}

const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

test("round-trips every dtype, scalars, empty tensors and metadata", () => {
  const input = sampleTensors();
  // "__proto__" must survive as a plain key, not become a prototype.
  const metadata = JSON.parse('{"format":"pt","note":"ünïcode ✓","__proto__":"y"}') as Record<string, string>;
  const file = serializeSafetensors(input, metadata);
  const { tensors, metadata: meta } = parseSafetensors(file);
  assert.deepEqual(meta, metadata);
  assert.deepEqual([...tensors.keys()], input.map((t) => t.name));
  for (const t of input) {
    const got = tensors.get(t.name)!;
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual([...got.data], [...bytesOf(t.data)], t.name);
  }
  // The parsed map serializes back to identical bytes.
  assert.deepEqual(serializeSafetensors(tensors, meta), file);
});

test("keeps odd tensor names and file order", () => {
  const names = ["b", "10", "0", 'q"uote\\back', "__proto__", "名前", "", "a\u0000b"];
  const input = names.map((name, i): TensorInput => ({ name, dtype: "U8", shape: [1], data: new Uint8Array([i]) }));
  const { tensors } = parseSafetensors(serializeSafetensors(input));
  assert.deepEqual([...tensors.keys()], names); // Object.keys would put "0" and "10" first
  names.forEach((name, i) => assert.equal(tensors.get(name)!.data[0], i));
});

test("writer aligns data to 8 bytes, writes in given order and omits empty metadata", () => {
  for (let n = 1; n <= 9; n++) {
    const file = serializeSafetensors([{ name: "x".repeat(n), dtype: "U8", shape: [1], data: new Uint8Array([7]) }]);
    const headerLen = Number(new DataView(file.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLen) % 8, 0);
    assert.equal(file[8 + headerLen], 7);
    assert.ok(!new TextDecoder().decode(file).includes("__metadata__"));
  }
  const file = serializeSafetensors([
    { name: "b", dtype: "U8", shape: [1], data: new Uint8Array([2]) },
    { name: "a", dtype: "U8", shape: [1], data: new Uint8Array([1]) },
  ]);
  assert.deepEqual([...parseSafetensors(file).tensors.keys()], ["b", "a"]);
  assert.deepEqual([...file.subarray(-2)], [2, 1]);
});

test("writer output matches the format byte for byte", () => {
  const file = serializeSafetensors([{ name: "w", dtype: "F32", shape: [2], data: new Float32Array([1, -2]) }]);
  const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const padded = header + "  "; // 54 header bytes, padded to 56 so data start at 8 + 56 = 64
  const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...enc.encode(padded), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
  assert.deepEqual([...file], expected);
});

test("parses hand-made known-good bytes", () => {
  const header = `{"__metadata__":{"k":"v"},"b":${entry("I8", [2], [8, 10])},"a":${entry("F32", [2], [0, 8])},"z":${entry("F16", [0], [10, 10])}}  `;
  const data = [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0xff, 0x05];
  const { tensors, metadata } = parseSafetensors(rawFile(header, data));
  assert.deepEqual(metadata, { k: "v" });
  assert.deepEqual([...toFloat32(tensors.get("a")!)], [1, -2]);
  assert.deepEqual([...toInt32(tensors.get("b")!)], [-1, 5]);
  assert.equal(toFloat32(tensors.get("z")!).length, 0);
  assert.deepEqual(parseSafetensors(rawFile("{}")).tensors.size, 0);
});

test("accepts Node Buffers and offset views", () => {
  const file = serializeSafetensors(sampleTensors());
  const pooled = Buffer.from(file.subarray(0, file.length)); // may share a pool slab at an offset
  const shifted = new Uint8Array(file.length + 3).subarray(3);
  shifted.set(file);
  for (const bytes of [pooled, shifted]) {
    const t = parseSafetensors(bytes).tensors.get("f32")!;
    assert.equal(Object.getPrototypeOf(t.data), Uint8Array.prototype);
    assert.deepEqual([...toFloat32(t)], [1, -2, 0.5, 3.25]);
  }
  // Hand-made entry whose data is a pooled Buffer: the converter must copy only its own bytes.
  const pooledData = Buffer.from(new Uint8Array(new Float32Array([3, 4]).buffer));
  assert.deepEqual([...toFloat32({ dtype: "F32", shape: [2], data: pooledData })], [3, 4]);
});

test("converts every dtype to float32, int32 and bigint64", () => {
  const t = parseSafetensors(serializeSafetensors(sampleTensors())).tensors;
  const f = (n: string) => [...toFloat32(t.get(n)!)];
  assert.deepEqual(f("f64"), [1.5, -Infinity]);
  const half = f("f16");
  assert.deepEqual(half.slice(0, 5), [1, -2, Infinity, 2 ** -24, -0]);
  assert.ok(Math.abs(half[5]! - 1 / 3) < 1e-3);
  assert.deepEqual(f("bf16"), [1, -3, -Infinity]);
  assert.deepEqual(f("i64"), [-(2 ** 62), 7]);
  assert.deepEqual(f("u32"), [4e9]);
  assert.deepEqual(f("bool"), [1, 0, 1]);
  assert.deepEqual(f("scalar"), [42]);
  assert.deepEqual([...toInt32(t.get("i16")!)], [-32768, 5]);
  const i64 = t.get("i64")!;
  assert.throws(() => toInt32(i64), /-4611686018427388000 at index 0 does not fit in int32/);
  assert.deepEqual([...toInt32({ ...i64, shape: [1], data: i64.data.subarray(8) })], [7]);
  assert.deepEqual([...toBigInt64(t.get("i64")!)], [-(2n ** 62n), 7n]);
  assert.deepEqual([...toBigInt64(t.get("u8")!)], [0n, 1n, 255n]);
  assert.throws(() => toInt32(t.get("u32")!), /does not fit in int32/);
  assert.throws(() => toInt32(t.get("f32")!), SafetensorsError);
  assert.throws(() => toBigInt64(t.get("u64")!), /does not fit in int64/);
  // An unaligned F32 view still converts (the copy realigns it).
  const odd = new Uint8Array(9);
  odd.set(new Uint8Array(new Float32Array([3, 4]).buffer), 1);
  assert.deepEqual([...toFloat32({ dtype: "F32", shape: [2], data: odd.subarray(1) })], [3, 4]);
  assert.equal(dtypeSize("BF16"), 2);
});

test("rejects malformed files with specific messages", () => {
  const ok = `{"a":${entry("F32", [2], [0, 8])}}`;
  const d8 = new Array(8).fill(0);
  rejects(new Uint8Array(5), "too short");
  rejects(rawFile(ok, d8).subarray(0, 20), "exceeds the");
  rejects(rawFile(ok, d8, 1000n), "truncated file");
  rejects(rawFile(ok, d8, 2n ** 53n), "header length 9007199254740992 exceeds the limit");
  rejects(rawFile(ok, d8, 2n ** 64n - 1n), "header length 18446744073709551615 exceeds the limit");
  assert.throws(() => parseSafetensors(rawFile(ok, d8), { maxHeaderBytes: 10 }), /exceeds the limit of 10/);
  rejects(rawFile("{not json}"), "not valid JSON");
  rejects(rawFile("[1,2]"), "JSON object");
  rejects(rawFile("\ufeff{}"), "JSON object");
  rejects(rawFile(""), "JSON object");
  const badUtf8 = rawFile('{"x":"??"}');
  badUtf8.set([0xc3, 0x28], 14);
  rejects(badUtf8, "UTF-8");
  rejects(rawFile(`{"a":${entry("F31", [2], [0, 8])}}`, d8), `tensor 'a' has unknown dtype "F31"`);
  rejects(rawFile(`{"a":${entry("toString", [2], [0, 8])}}`, d8), "unknown dtype");
  rejects(rawFile(`{"a":${entry("F32", [-2], [0, 8])}}`, d8), "tensor 'a' shape contains -2, which is not a non-negative integer");
  rejects(rawFile(`{"a":${entry("F32", [2.5], [0, 8])}}`, d8), "not a non-negative integer");
  rejects(rawFile(`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, d8), "contains 2.0");
  rejects(rawFile(`{"a":${entry("F32", "2", [0, 8])}}`, d8), "shape \"2\" must be an array");
  rejects(rawFile(`{"a":${entry("F32", [2], [0, 80])}}`, d8), "tensor 'a' data_offsets [0, 80] exceed the data region of 8 bytes");
  rejects(rawFile(`{"a":${entry("F32", [2], [8, 0])}}`, d8), "begin > end");
  rejects(rawFile(`{"a":${entry("F32", [2], [0])}}`, d8), "must be [begin, end]");
  rejects(rawFile(`{"a":${entry("F32", [2], [0, 8])},"b":${entry("F32", [1], [4, 8])}}`, d8), "overlap tensor 'a'");
  rejects(rawFile(`{"a":${entry("F32", [1], [0, 4])},"b":${entry("F32", [0], [2, 2])}}`, [0, 0, 0, 0]), "overlap");
  rejects(rawFile(`{"a":${entry("U8", [2], [0, 2])},"b":${entry("U8", [2], [4, 6])}}`, [1, 2, 3, 4, 5, 6]), "hole in data region: bytes [2, 4)");
  rejects(rawFile(ok, [...d8, 1]), "1 trailing bytes");
  rejects(rawFile(`{"blocks.0.w":${entry("F32", [3, 4], [0, 40])}}`, new Array(40).fill(0)),
    "tensor 'blocks.0.w' data_offsets [0, 40] do not match shape [3, 4] of F32 (48 bytes)");
  rejects(rawFile(`{"a":${entry("F32", [2 ** 52, 2 ** 52], [0, 8])}}`, d8), "too large");
  rejects(rawFile(`{"a":${entry("F32", [2], [0, 8])},"a":${entry("F32", [2], [0, 8])}}`, d8), "duplicate tensor name 'a'");
  rejects(rawFile(`{"a":${entry("F32", [2], [0, 8])},"\\u0061":${entry("F32", [2], [0, 8])}}`, d8), "duplicate tensor name 'a'");
  rejects(rawFile(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d8), "duplicate key 'dtype' in 'a'");
  rejects(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}`, d8), "unknown field 'extra'");
  rejects(rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, d8), "missing 'data_offsets'");
  rejects(rawFile(`{"a":[1]}`), "must be an object");
  rejects(rawFile(`{"__metadata__":{"k":1}}`), "__metadata__ value for 'k' must be a string, got 1");
  rejects(rawFile(`{"__metadata__":["x"]}`), "__metadata__ must be an object");
  rejects(rawFile(`{"__metadata__":{"k":"v","k":"w"}}`), "duplicate key 'k'");
});

test("writer rejects inconsistent input", () => {
  const t = (over: Partial<TensorInput>): TensorInput[] => [{ name: "a", dtype: "F32", shape: [2], data: new Float32Array(2), ...over }];
  assert.throws(() => serializeSafetensors(t({ shape: [3] })), /has 8 data bytes but shape \[3\] of F32 needs 12/);
  assert.throws(() => serializeSafetensors(t({ dtype: "F8" as Dtype })), /unknown dtype/);
  assert.throws(() => serializeSafetensors(t({ shape: [-1] })), /non-negative/);
  assert.throws(() => serializeSafetensors(t({ name: "__metadata__" })), SafetensorsError);
  assert.throws(() => serializeSafetensors([...t({}), ...t({})]), /duplicate tensor name 'a'/);
  assert.throws(() => serializeSafetensors(t({}), { k: 1 as unknown as string }), /must be a string/);
});

/** Small seeded PRNG so the fuzz corpus is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Corruption = "truncate" | "headerFlip" | "dataFlip" | "lengthByte" | "replaceOffset" | "swapNumbers" | "appendJunk" | "multiFlip";
const KINDS: Corruption[] = ["truncate", "headerFlip", "dataFlip", "lengthByte", "replaceOffset", "swapNumbers", "appendJunk", "multiFlip"];

function corrupt(valid: Uint8Array, headerLen: number, kind: Corruption, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const out = valid.slice();
  const text = new TextDecoder().decode(valid.subarray(8, 8 + headerLen));
  const withHeader = (h: string) => rawFile(h, valid.subarray(8 + headerLen));
  switch (kind) {
    case "truncate": return valid.slice(0, int(valid.length));
    case "headerFlip": out[8 + int(headerLen)]! ^= 1 << int(8); return out;
    case "dataFlip": out[8 + headerLen + int(valid.length - 8 - headerLen)]! ^= 1 << int(8); return out;
    case "lengthByte": out[int(8)] = int(256); return out;
    case "appendJunk": return new Uint8Array([...valid, ...Array.from({ length: 1 + int(16) }, () => int(256))]);
    case "multiFlip":
      for (let k = 0; k < 1 + int(8); k++) out[int(out.length)]! ^= 1 << int(8);
      return out;
    case "replaceOffset": {
      const nums = [...text.matchAll(/\d+/g)];
      const m = nums[int(nums.length)]!;
      const choices = [String(int(200)), "-1", "1.5", "1e2", "9007199254740993", String(Number(m[0]) + 1), "0"];
      return withHeader(text.slice(0, m.index) + choices[int(choices.length)]! + text.slice(m.index! + m[0].length));
    }
    case "swapNumbers": {
      const nums = [...text.matchAll(/\d+/g)].map((m) => m[0]);
      const i = int(nums.length), j = int(nums.length);
      [nums[i], nums[j]] = [nums[j]!, nums[i]!];
      let k = 0;
      return withHeader(text.replace(/\d+/g, () => nums[k++]!));
    }
  }
}

/** Checks a parse result is internally consistent: sizes match shapes and ranges tile the file. */
function assertConsistent(file: Uint8Array, result: ReturnType<typeof parseSafetensors>): void {
  let total = 0;
  for (const [name, t] of result.tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.data.byteLength, numel * dtypeSize(t.dtype), name);
    assert.equal(t.data.buffer, file.buffer, "data must be a view into the input");
    total += t.data.byteLength;
    toFloat32(t);
  }
  const headerLen = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  assert.equal(total, file.length - 8 - headerLen);
  // A consistent result re-serializes and re-parses to the same tensors.
  const again = parseSafetensors(serializeSafetensors(result.tensors, result.metadata));
  assert.deepEqual([...again.tensors.keys()], [...result.tensors.keys()]);
}

test("fuzz: seeded corruptions either parse consistently or throw SafetensorsError", () => {
  const valid = serializeSafetensors(sampleTensors(), { source: "fuzz", v: "1" });
  const headerLen = Number(new DataView(valid.buffer).getBigUint64(0, true));
  const reference = parseSafetensors(valid);
  const rnd = mulberry32(0x5afe7e45);
  const stats = new Map<Corruption, { rejected: number; accepted: number }>(KINDS.map((k) => [k, { rejected: 0, accepted: 0 }]));
  const start = performance.now();
  const N = 4000;
  for (let i = 0; i < N; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const file = corrupt(valid, headerLen, kind, rnd);
    let result: ReturnType<typeof parseSafetensors>;
    try {
      result = parseSafetensors(file);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.fail(`case ${i} (${kind}) threw ${String(e)}`);
      stats.get(kind)!.rejected++;
      continue;
    }
    stats.get(kind)!.accepted++;
    assertConsistent(file, result);
    if (kind === "dataFlip") {
      for (const [name, t] of reference.tensors) {
        assert.deepEqual(result.tensors.get(name)?.shape, t.shape, name);
        assert.equal(result.tensors.get(name)?.dtype, t.dtype, name);
      }
    }
  }
  const elapsed = performance.now() - start;
  const rejected = [...stats.values()].reduce((a, s) => a + s.rejected, 0);
  console.log(`fuzz: ${N} cases, ${rejected} rejected, ${elapsed.toFixed(0)} ms`, Object.fromEntries(stats));
  assert.equal(stats.get("dataFlip")!.rejected, 0, "bit flips inside tensor data must be accepted");
  assert.equal(stats.get("appendJunk")!.accepted, 0, "trailing junk must be rejected");
  assert.ok(stats.get("truncate")!.rejected >= N / KINDS.length - 1);
  assert.ok(rejected > N * 0.6, `only ${rejected} of ${N} rejected`);
  assert.ok(elapsed < 5000, `fuzz took ${elapsed} ms`);
});
