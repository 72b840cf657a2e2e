/**
 * Strict, bounds-checked reader and writer for the safetensors format: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON header, then the raw
 * little-endian tensor bytes. Browser-safe: only Uint8Array, DataView and TextEncoder/Decoder.
 */

/** Element types understood by this module (safetensors dtype names). */
export type Dtype =
  | "F64" | "F32" | "F16" | "BF16"
  | "I64" | "I32" | "I16" | "I8"
  | "U64" | "U32" | "U16" | "U8" | "BOOL";

/** One tensor: dtype, shape and its little-endian raw bytes (parse returns a view into the file). */
export interface TensorEntry { dtype: Dtype; shape: number[]; data: Uint8Array }

/** What serializeSafetensors accepts per tensor; `data` holds raw little-endian bytes. */
export interface TensorInput { name: string; dtype: Dtype; shape: number[]; data: ArrayBufferView }

/** Result of parseSafetensors. */
export interface SafetensorsFile { tensors: Map<string, TensorEntry>; metadata: Record<string, string> }

/** Thrown for every malformed file, invalid argument or impossible conversion. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** Throws a SafetensorsError; a function so guards stay one line. */
function fail(message: string): never {
  throw new SafetensorsError(message);
}

const SIZES: ReadonlyMap<string, number> = new Map([
  ["F64", 8], ["F32", 4], ["F16", 2], ["BF16", 2], ["I64", 8], ["I32", 4], ["I16", 2],
  ["I8", 1], ["U64", 8], ["U32", 4], ["U16", 2], ["U8", 1], ["BOOL", 1],
]);
const FIELDS = ["dtype", "shape", "data_offsets"];
const DEFAULT_MAX_HEADER = 100_000_000; // same cap as the reference implementation
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: Dtype): number {
  const size = SIZES.get(dtype);
  if (size === undefined) fail(`unknown dtype ${show(dtype)}`);
  return size;
}

/** Parses and fully validates a safetensors file; tensor data are views into `bytes`. */
export function parseSafetensors(input: Uint8Array, options: { maxHeaderBytes?: number } = {}): SafetensorsFile {
  // A plain Uint8Array view, so a Node Buffer's subarray/slice quirks never leak into the entries.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const headerLen = readHeaderLength(bytes, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER);
  const { header, keys } = parseHeaderJson(bytes.subarray(8, 8 + headerLen));
  const data = bytes.subarray(8 + headerLen);
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorEntry>();
  const spans: Span[] = [];
  for (const name of keys) { // file order; Object.keys would hoist integer-like names
    if (name === "__metadata__") { metadata = readMetadata(header[name]); continue; }
    const span = readEntry(name, header[name], data.length);
    spans.push(span);
    tensors.set(name, { dtype: span.dtype, shape: span.shape, data: data.subarray(span.begin, span.end) });
  }
  checkCoverage(spans, data.length);
  return { tensors, metadata };
}

interface Span { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }

function readHeaderLength(bytes: Uint8Array, maxHeader: number): number {
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 0) fail(`maxHeaderBytes ${maxHeader} is not a non-negative integer`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  // BigInt keeps the full u64 exact, so 2^64-1 is reported (and rejected) as itself.
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(maxHeader)) fail(`header length ${n} exceeds the limit of ${maxHeader} bytes`);
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} exceeds the ${bytes.length - 8} bytes after the length prefix (truncated file?)`);
  }
  return Number(n);
}

function parseHeaderJson(raw: Uint8Array): { header: Record<string, unknown>; keys: string[] } {
  let text: string;
  try {
    // fatal: reject invalid UTF-8; ignoreBOM: keep a BOM so the '{' check below rejects it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    fail("header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail("header must be a JSON object starting with '{'");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(value)) fail("header is not a JSON object");
  return { header: value, keys: scanHeaderText(text) };
}

/**
 * Walks the header text (already validated by JSON.parse) for what JSON.parse hides:
 * duplicate keys (it silently keeps the last) and integers spelled as 1.0, 1e1 or -0.
 * Returns the top-level keys in file order.
 */
function scanHeaderText(text: string): string[] {
  const stack: Array<Set<string> | null> = []; // a Set of keys per object, null per array
  let topKeys = new Set<string>();
  let expectKey = false;
  let entry = "";
  let field = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      if (expectKey) {
        const key = decodeString(text.slice(i, end + 1));
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) {
          fail(stack.length === 1 ? `duplicate tensor name '${q(key)}'` : `duplicate key '${q(key)}' in '${q(entry)}'`);
        }
        keys.add(key);
        if (stack.length === 1) [entry, field] = [key, "value"];
        if (stack.length === 2) field = key;
      }
      i = end;
    } else if (c === "{" || c === "[") {
      stack.push(c === "{" ? new Set() : null);
      if (stack.length === 1) topKeys = stack[0]!;
      expectKey = c === "{";
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] !== null;
    } else if (c === ":") {
      expectKey = false;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      let end = i + 1;
      while (end < text.length && /[0-9eE.+-]/.test(text[end]!)) end++;
      const literal = text.slice(i, end);
      // Metadata numbers get the clearer "must be a string" error later.
      if (!/^[0-9]+$/.test(literal) && entry !== "__metadata__") {
        fail(`tensor '${q(entry)}' ${field} contains ${literal}, which is not a non-negative integer`);
      }
      i = end - 1;
    }
  }
  return [...topKeys];
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i;
}

function decodeString(literal: string): string {
  // Escapes matter: "a" and "\u0061" are the same key.
  return literal.includes("\\") ? (JSON.parse(literal) as string) : literal.slice(1, -1);
}

function readMetadata(value: unknown): Record<string, string> {
  checkMetadata(value);
  // fromEntries defines own properties, so a "__proto__" key stays plain data.
  return Object.fromEntries(Object.entries(value as object)) as Record<string, string>;
}

function readEntry(name: string, value: unknown, dataSize: number): Span {
  const t = `tensor '${q(name)}'`;
  if (!isObject(value)) fail(`${t} must be an object with dtype, shape and data_offsets, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (!FIELDS.includes(key)) fail(`${t} has unknown field '${q(key)}'`);
  }
  for (const key of FIELDS) if (!Object.hasOwn(value, key)) fail(`${t} is missing '${key}'`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string" || !SIZES.has(dtype)) fail(`${t} has unknown dtype ${show(dtype)}`);
  if (!isIndexArray(shape)) fail(`${t} shape ${show(shape)} must be an array of non-negative integers`);
  if (!isIndexArray(offsets) || offsets.length !== 2) {
    fail(`${t} data_offsets ${show(offsets)} must be [begin, end] non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${t} data_offsets [${begin}, ${end}] have begin > end`);
  if (end > dataSize) fail(`${t} data_offsets [${begin}, ${end}] exceed the data region of ${dataSize} bytes`);
  const expected = byteLength(name, dtype as Dtype, shape);
  if (end - begin !== expected) {
    fail(`${t} data_offsets [${begin}, ${end}] do not match shape ${show(shape)} of ${dtype} (${expected} bytes)`);
  }
  return { name, dtype: dtype as Dtype, shape: [...shape], begin, end };
}

/** Byte size of a tensor, refusing sizes beyond 2^53 instead of silently rounding. */
function byteLength(name: string, dtype: Dtype, shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let n = dtypeSize(dtype);
  for (const d of shape) {
    n *= d; // both factors are safe integers, so any overflow lands above MAX_SAFE_INTEGER
    if (n > Number.MAX_SAFE_INTEGER) fail(`tensor '${q(name)}' shape ${show(shape)} of ${dtype} is too large (byte size overflows)`);
  }
  return n;
}

/** Tensors must tile the data region exactly: no overlap, no hole, no trailing bytes. */
function checkCoverage(spans: Span[], dataSize: number): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev = "";
  for (const s of spans) {
    if (s.begin < cursor) {
      fail(`tensor '${q(s.name)}' data_offsets [${s.begin}, ${s.end}] overlap tensor '${q(prev)}' (which ends at ${cursor})`);
    }
    if (s.begin > cursor) fail(`hole in data region: bytes [${cursor}, ${s.begin}) before tensor '${q(s.name)}' belong to no tensor`);
    cursor = s.end;
    prev = s.name;
  }
  if (cursor !== dataSize) fail(`data region has ${dataSize - cursor} trailing bytes after the last tensor`);
}

/**
 * Writes a safetensors file with tensors in the given order (array order or Map insertion
 * order), `__metadata__` first when non-empty, header space-padded so data start 8-aligned.
 */
export function serializeSafetensors(
  tensors: readonly TensorInput[] | ReadonlyMap<string, Omit<TensorInput, "name">>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list: readonly TensorInput[] = Array.isArray(tensors)
    ? tensors
    : Array.from(tensors as ReadonlyMap<string, Omit<TensorInput, "name">>, ([name, t]) => ({ ...t, name }));
  const parts: string[] = [];
  if (metadata !== undefined && checkMetadata(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const seen = new Set<string>();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of list) {
    const bytes = checkInput(t, seen);
    // Built by hand (not via an object) so key order is exact and "__proto__" is just a name.
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  // Trailing spaces are valid JSON whitespace and make the data start 8-byte aligned.
  const headerBytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const c of chunks) { out.set(c, pos); pos += c.length; }
  return out;
}

/** Returns the metadata keys after checking every value is a string. */
function checkMetadata(metadata: unknown): string[] {
  if (!isObject(metadata)) fail(`__metadata__ must be an object mapping strings to strings, got ${show(metadata)}`);
  for (const [key, v] of Object.entries(metadata)) {
    if (typeof v !== "string") fail(`__metadata__ value for '${q(key)}' must be a string, got ${show(v)}`);
  }
  return Object.keys(metadata);
}

function checkInput(t: TensorInput, seen: Set<string>): Uint8Array {
  if (typeof t.name !== "string" || t.name === "__metadata__") fail(`invalid tensor name ${show(t.name)}`);
  if (seen.has(t.name)) fail(`duplicate tensor name '${q(t.name)}'`);
  seen.add(t.name);
  if (!SIZES.has(t.dtype)) fail(`tensor '${q(t.name)}' has unknown dtype ${show(t.dtype)}`);
  if (!isIndexArray(t.shape)) fail(`tensor '${q(t.name)}' shape ${show(t.shape)} must be an array of non-negative integers`);
  const expected = byteLength(t.name, t.dtype, t.shape);
  if (t.data.byteLength !== expected) {
    fail(`tensor '${q(t.name)}' has ${t.data.byteLength} data bytes but shape ${show(t.shape)} of ${t.dtype} needs ${expected}`);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

type Reader = (dv: DataView, offset: number) => number;
const scratch = new DataView(new ArrayBuffer(4));
const READERS: Record<Dtype, Reader> = {
  F64: (dv, o) => dv.getFloat64(o, true),
  F32: (dv, o) => dv.getFloat32(o, true),
  F16: (dv, o) => halfToFloat(dv.getUint16(o, true)),
  BF16: (dv, o) => { scratch.setUint32(0, dv.getUint16(o, true) << 16); return scratch.getFloat32(0); },
  I64: (dv, o) => Number(dv.getBigInt64(o, true)),
  U64: (dv, o) => Number(dv.getBigUint64(o, true)),
  I32: (dv, o) => dv.getInt32(o, true),
  U32: (dv, o) => dv.getUint32(o, true),
  I16: (dv, o) => dv.getInt16(o, true),
  U16: (dv, o) => dv.getUint16(o, true),
  I8: (dv, o) => dv.getInt8(o),
  U8: (dv, o) => dv.getUint8(o),
  BOOL: (dv, o) => (dv.getUint8(o) !== 0 ? 1 : 0),
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Element count of a (possibly hand-made) entry, after checking its byte length against shape. */
function elementCount(entry: TensorEntry): number {
  const bytes = byteLength("<entry>", entry.dtype, entry.shape);
  if (entry.data.byteLength !== bytes) {
    fail(`entry has ${entry.data.byteLength} bytes but shape ${show(entry.shape)} of ${entry.dtype} needs ${bytes}`);
  }
  return bytes / dtypeSize(entry.dtype);
}

function viewOf(entry: TensorEntry): DataView {
  return new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
}

function requireInteger(entry: TensorEntry, fn: string): void {
  if (entry.dtype.startsWith("F") || entry.dtype === "BF16") fail(`${fn} needs an integer dtype, got ${entry.dtype}`);
}

/** Converts any dtype to a fresh, aligned Float32Array (64-bit ints may lose precision). */
export function toFloat32(entry: TensorEntry): Float32Array {
  const n = elementCount(entry);
  if (entry.dtype === "F32" && LITTLE_ENDIAN) {
    // Copy via set(): slice() on a Node Buffer would return a shared view, not a copy.
    const copy = new Uint8Array(entry.data.byteLength);
    copy.set(entry.data);
    return new Float32Array(copy.buffer);
  }
  const read = READERS[entry.dtype];
  const dv = viewOf(entry);
  const size = dtypeSize(entry.dtype);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = read(dv, i * size);
  return out;
}

/** Converts an integer or BOOL tensor to Int32Array; throws on float dtypes or out-of-range values. */
export function toInt32(entry: TensorEntry): Int32Array {
  requireInteger(entry, "toInt32");
  const n = elementCount(entry);
  const read = READERS[entry.dtype];
  const dv = viewOf(entry);
  const size = dtypeSize(entry.dtype);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = read(dv, i * size);
    if ((v | 0) !== v) fail(`value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
}

/** Converts an integer or BOOL tensor to BigInt64Array exactly; throws on float dtypes or U64 values >= 2^63. */
export function toBigInt64(entry: TensorEntry): BigInt64Array {
  requireInteger(entry, "toBigInt64");
  const n = elementCount(entry);
  const read = READERS[entry.dtype];
  const dv = viewOf(entry);
  const size = dtypeSize(entry.dtype);
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    // 64-bit values go through BigInt directly: a Number would round them.
    if (entry.dtype === "I64") out[i] = dv.getBigInt64(i * 8, true);
    else if (entry.dtype === "U64") {
      const v = dv.getBigUint64(i * 8, true);
      if (v >= 2n ** 63n) fail(`value ${v} at index ${i} does not fit in int64`);
      out[i] = v;
    } else out[i] = BigInt(read(dv, i * size));
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isIndexArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Short printable form of a header value for error messages. */
function show(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  if (Array.isArray(v)) s = s.replace(/,/g, ", ");
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Tensor names come from untrusted input: keep messages bounded. */
function q(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}...` : name;
}
