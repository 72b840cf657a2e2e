/**
 * Checkpoint directories: config.json (what the model is), model.safetensors (weights),
 * optimizer.safetensors (AdamW moments), optional ema.safetensors (the SST target), and
 * state.json (step, RNG, data position, best metric, and a SHA-256 of every other file).
 *
 * Saving is journalled so that a kill at any instant leaves a loadable checkpoint: every file
 * is first written as `<name>.next`, then `state.json.next` (the commit point), then the
 * `.next` files are renamed into place, state.json last. Loading first finishes a committed
 * save (roll forward) or discards an uncommitted one. A truncated or tampered file is refused.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { serializeSafetensors, type TensorInput } from "../engine/safetensors.js";
import { writeFileAtomic } from "./atomic.js";
import {
  CHECKPOINT_FORMAT, GROUP_FILES, groupFromBytes, parseJsonBytes, type Checkpoint, type CheckpointConfig, type TensorGroup, type TrainingState,
} from "./checkpoint-types.js";

/** The types and the format version live in checkpoint-types.ts, which a browser can import. */
export { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointConfig, type TensorGroup, type TrainingState } from "./checkpoint-types.js";

/** Writes a checkpoint into dir (created if needed); see the file comment for the journal. */
export function saveCheckpoint(dir: string, ckpt: Checkpoint): void {
  const hashes: Record<string, string> = {};
  const stage = (name: string, bytes: Uint8Array) => {
    writeFileAtomic(join(dir, `${name}.next`), bytes);
    hashes[name] = sha256(bytes);
  };
  stage("config.json", new TextEncoder().encode(JSON.stringify(ckpt.config, null, 2) + "\n"));
  for (const [group, file] of Object.entries(GROUP_FILES)) {
    const tensors = ckpt[group as keyof typeof GROUP_FILES];
    if (tensors) stage(file, serializeSafetensors(toInputs(tensors), { format: "pt", kind: ckpt.config.kind }));
  }
  const state = { format: CHECKPOINT_FORMAT, ...ckpt.state, files: hashes };
  writeFileAtomic(join(dir, "state.json.next"), JSON.stringify(state, null, 2) + "\n");
  finishSave(dir);
}

/** Whether dir holds a checkpoint (after finishing or discarding an interrupted save). */
export function hasCheckpoint(dir: string): boolean {
  if (!existsSync(dir)) return false;
  recover(dir);
  return existsSync(join(dir, "state.json"));
}

/** Reads and verifies a checkpoint; its kind must be one of expectedKinds when given. */
export function loadCheckpoint(dir: string, expectedKinds?: string[]): Checkpoint {
  if (!existsSync(dir)) throw new Error(`checkpoint directory ${dir} does not exist`);
  recover(dir);
  const statePath = join(dir, "state.json");
  if (!existsSync(statePath)) throw new Error(`${dir} is not a checkpoint (no state.json)`);
  const state = readJson(statePath) as TrainingState & { format?: number; files?: Record<string, string> };
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`${statePath}: unsupported checkpoint format ${state.format}`);
  const files = state.files ?? {};
  const read = (name: string) => {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    if (files[name] !== sha256(bytes)) throw new Error(`checkpoint file ${join(dir, name)} is truncated or modified (checksum mismatch)`);
    return bytes;
  };
  if (!files["config.json"] || !files["model.safetensors"]) throw new Error(`${statePath}: lists no config or model file`);
  const config = parseJsonBytes(read("config.json"), join(dir, "config.json")) as CheckpointConfig;
  if (expectedKinds && !expectedKinds.includes(config.kind)) {
    throw new Error(`${dir} holds a '${config.kind}' checkpoint, expected ${expectedKinds.map((k) => `'${k}'`).join(" or ")}`);
  }
  const group = (file: string) => (files[file] ? groupFromBytes(read(file), join(dir, file)) : null);
  const { files: _files, format: _format, ...rest } = state;
  return { config, state: rest as TrainingState, model: group(GROUP_FILES.model)!, optimizer: group(GROUP_FILES.optimizer), ema: group(GROUP_FILES.ema) };
}

/** Renames the staged files of a committed save into place, state.json last. */
function finishSave(dir: string): void {
  const next = readJson(join(dir, "state.json.next")) as { files?: Record<string, string> };
  for (const name of Object.keys(next.files ?? {})) {
    if (existsSync(join(dir, `${name}.next`))) renameSync(join(dir, `${name}.next`), join(dir, name));
  }
  renameSync(join(dir, "state.json.next"), join(dir, "state.json"));
}

/** Completes a save that reached its commit point; deletes the leftovers of one that did not. */
function recover(dir: string): void {
  if (existsSync(join(dir, "state.json.next"))) {
    finishSave(dir);
    return;
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".next") || name.includes(".next.tmp-")) rmSync(join(dir, name), { force: true });
  }
}

function toInputs(group: TensorGroup): TensorInput[] {
  return [...group].map(([name, t]) => ({ name, dtype: "F32", shape: [...t.shape], data: t.data }));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function readJson(path: string): unknown {
  return parseJsonBytes(new Uint8Array(readFileSync(path)), path);
}
