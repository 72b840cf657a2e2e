/**
 * A checkpoint in one file, so a person can hand a trained model to the browser page: a
 * safetensors file whose tensors are the checkpoint's model group (`model.<name>`) and EMA
 * group (`ema.<name>`), and whose metadata holds the config and state as JSON and the SHA-256
 * of the tensor data, so that a modified bundle is refused like a modified checkpoint.
 * PyTorch reads it with `safetensors.torch.load_file`. Browser-safe.
 */
import { parseSafetensors, serializeSafetensors, toFloat32, type TensorInput } from "../engine/safetensors.js";
import type { InferenceCheckpoint } from "./checkpoint-files.js";
import type { CheckpointConfig, TensorGroup, TrainingState } from "./checkpoint-types.js";
import { sha256Hex } from "./sha256.js";

/** The `format` metadata value that marks a bundle. */
export const BUNDLE_FORMAT = "jepa-checkpoint-bundle/1";

const GROUPS = ["model", "ema"] as const;

/** The checkpoint's model and EMA tensors, config and state, as one safetensors file. */
export async function serializeBundle(ckpt: InferenceCheckpoint): Promise<Uint8Array> {
  const tensors: TensorInput[] = [];
  for (const group of GROUPS) {
    for (const [name, t] of ckpt[group] ?? []) tensors.push({ name: `${group}.${name}`, dtype: "F32", shape: [...t.shape], data: t.data });
  }
  const metadata = { format: BUNDLE_FORMAT, kind: ckpt.config.kind, config: JSON.stringify(ckpt.config), state: JSON.stringify(ckpt.state) };
  // The data section does not depend on the metadata, so hash it from a first serialisation.
  const draft = serializeSafetensors(tensors, metadata);
  return serializeSafetensors(tensors, { ...metadata, data_sha256: await sha256Hex(dataSection(draft)) });
}

/** Reads and verifies a bundle; messages name the file `source`. */
export async function parseBundle(bytes: Uint8Array, source: string): Promise<InferenceCheckpoint> {
  let file: ReturnType<typeof parseSafetensors>;
  try {
    file = parseSafetensors(bytes);
  } catch (err) {
    throw new Error(`${source} is not a checkpoint bundle (${(err as Error).message})`);
  }
  const meta = file.metadata;
  if (meta.format !== BUNDLE_FORMAT) throw new Error(`${source} is a safetensors file but not a checkpoint bundle (write one with \`jepa serve --export FILE\`)`);
  if ((await sha256Hex(dataSection(bytes))) !== meta.data_sha256) throw new Error(`${source} is truncated or modified (checksum mismatch)`);
  const groups: Record<(typeof GROUPS)[number], TensorGroup> = { model: new Map(), ema: new Map() };
  for (const [name, entry] of file.tensors) {
    const dot = name.indexOf(".");
    const group = name.slice(0, dot) as (typeof GROUPS)[number];
    if (!GROUPS.includes(group) || entry.dtype !== "F32") throw new Error(`${source}: unexpected tensor '${name}' (${entry.dtype}) in a checkpoint bundle`);
    groups[group].set(name.slice(dot + 1), { shape: entry.shape, data: toFloat32(entry) });
  }
  return { config: jsonField(meta, "config", source) as CheckpointConfig, state: jsonField(meta, "state", source) as TrainingState, model: groups.model, ema: groups.ema.size ? groups.ema : null };
}

/** The bytes after the 8-byte length and the header (the file has been validated or just written). */
function dataSection(bytes: Uint8Array): Uint8Array {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return bytes.subarray(8 + headerLength);
}

function jsonField(meta: Record<string, string>, key: string, source: string): unknown {
  try {
    const value = JSON.parse(meta[key] ?? "") as unknown;
    if (typeof value !== "object" || value === null) throw new Error("not an object");
    return value;
  } catch (err) {
    throw new Error(`${source}: the bundle's ${key} is not valid JSON (${(err as Error).message})`);
  }
}
