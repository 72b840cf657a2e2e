/**
 * What a checkpoint holds, as plain data with no file system behind it: shared by the Node
 * reader and writer (checkpoint.ts) and the browser's reader (checkpoint-files.ts).
 */
import { parseSafetensors, toFloat32 } from "../engine/safetensors.js";

/** Format version written into state.json (2: state.json carries a checksum of itself). */
export const CHECKPOINT_FORMAT = 2;

/** Named float32 arrays with shapes: a group of tensors stored in one safetensors file. */
export type TensorGroup = Map<string, { shape: readonly number[]; data: Float32Array }>;

/** What kind of model a checkpoint holds, and its configuration. */
export interface CheckpointConfig {
  kind: string;
  [key: string]: unknown;
}

/** Training progress, enough to resume exactly. */
export interface TrainingState {
  step: number;
  dataPosition: number;
  rng: number[];
  best: { metric: string; value: number; step: number } | null;
  [key: string]: unknown;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  config: CheckpointConfig;
  state: TrainingState;
  model: TensorGroup;
  optimizer: TensorGroup | null;
  ema: TensorGroup | null;
}

/** The safetensors file each tensor group is stored in. */
export const GROUP_FILES = { model: "model.safetensors", optimizer: "optimizer.safetensors", ema: "ema.safetensors" } as const;

/** The tensors of a safetensors file as float32 arrays; errors name `path`. */
export function groupFromBytes(bytes: Uint8Array, path: string): TensorGroup {
  try {
    const file = parseSafetensors(bytes);
    const out: TensorGroup = new Map();
    for (const [name, entry] of file.tensors) out.set(name, { shape: entry.shape, data: toFloat32(entry) });
    return out;
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/** Parses JSON bytes; a syntax error names `path`. */
export function parseJsonBytes(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    // The parser quotes the text around the error, which may hold line breaks: keep one line.
    throw new Error(`${path} is not valid JSON: ${(err as Error).message.replace(/\s+/g, " ")}`);
  }
}
