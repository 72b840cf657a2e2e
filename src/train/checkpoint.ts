/**
 * Checkpoint directories: config.json (what the model is), model.safetensors (weights),
 * optimizer.safetensors (AdamW moments), optional ema.safetensors (the SST target), and
 * state.json (step, RNG, data position, best metric, a SHA-256 of every other file, and a
 * checksum of itself).
 *
 * Saving is journalled so that a kill at any instant leaves a loadable checkpoint: every file
 * is first written as `<name>.next`, then `state.json.next` (the commit point), then the
 * `.next` files are renamed into place, state.json last. Readers never change the directory:
 * they assemble the last committed save or the next one from whichever of `<name>` and
 * `<name>.next` matches its hashes, so a save in progress is never seen half-way. Only the
 * process that owns the directory (the training run holding its lock) finishes or discards an
 * interrupted save, with recoverCheckpoint().
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { serializeSafetensors, type TensorInput } from "../engine/safetensors.js";
import { writeFileAtomic } from "./atomic.js";
import { readRegularFile } from "./checkpoint-read.js";
import { splitStateFile, stateFileText, validateState, type StateFile } from "./checkpoint-state.js";
import {
  CHECKPOINT_FORMAT, GROUP_FILES, groupFromBytes, parseJsonBytes, type Checkpoint, type CheckpointConfig, type TensorGroup,
} from "./checkpoint-types.js";

/** The types and the format version live in checkpoint-types.ts, which a browser can import. */
export { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointConfig, type TensorGroup, type TrainingState } from "./checkpoint-types.js";

/** Every file a checkpoint may hold: only these (and their journal copies) are ever removed. */
export const CHECKPOINT_FILES = ["config.json", ...Object.values(GROUP_FILES), "state.json"] as const;

/**
 * How long a reader keeps retrying while saves keep changing the files under it. A run that
 * saves every step can replace a committed file between a reader's reads several times in a
 * row on a busy machine, so the bound is a time, not a count of attempts.
 */
const READ_DEADLINE_MS = 10_000;

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
  const body = { format: CHECKPOINT_FORMAT, ...ckpt.state, files: hashes };
  writeFileAtomic(join(dir, "state.json.next"), stateFileText(body, (text) => sha256(new TextEncoder().encode(text))));
  finishSave(dir);
}

/** Whether dir holds a checkpoint, committed or committing (reads only). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, "state.json")) || existsSync(join(dir, "state.json.next"));
}

/**
 * Whether dir holds a checkpoint that loads (reads only). A bare state.json is not enough: that
 * name is common, and a folder taken for a run is written into.
 */
export function isCheckpoint(dir: string): boolean {
  return checkpointConfig(dir) !== null;
}

/** The config of the checkpoint in dir if it loads, else null (reads only). */
export function checkpointConfig(dir: string): CheckpointConfig | null {
  if (!hasCheckpoint(dir)) return null;
  try {
    return loadCheckpoint(dir).config;
  } catch {
    return null;
  }
}

/**
 * Finishes a save that reached its commit point, or deletes the journal files of one that did
 * not. Only the owner of dir may call it: it renames and removes files a live save is writing.
 */
export function recoverCheckpoint(dir: string): void {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, "state.json.next"))) {
    finishSave(dir);
    return;
  }
  const journal = new Set(CHECKPOINT_FILES.map((name) => `${name}.next`));
  for (const name of readdirSync(dir)) {
    const base = name.replace(/\.tmp-\d+(-\d+)?$/, "");
    if (journal.has(base)) rmSync(join(dir, name), { force: true });
  }
}

/** Reads and verifies a checkpoint without changing dir; its kind must be one of expectedKinds when given. */
export function loadCheckpoint(dir: string, expectedKinds?: string[]): Checkpoint {
  if (!existsSync(dir)) throw new Error(`checkpoint directory ${dir} does not exist`);
  let firstError: Error | null = null;
  let stableFailures = 0;
  const deadline = Date.now() + READ_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    const before = journalMark(dir);
    const got = readSnapshot(dir, expectedKinds);
    if (!(got instanceof Error)) return got;
    firstError ??= got;
    // Unchanged files and no save under way, twice in a row: the error is the checkpoint's, not
    // a race's. Once is not enough: a run saving every step was seen to slip a save between the
    // two marks of one attempt unnoticed (test/concurrent-runs.test.ts, about 1 run in 4).
    const stable = before === journalMark(dir) && !existsSync(join(dir, "state.json.next"));
    stableFailures = stable ? stableFailures + 1 : 0;
    if (stableFailures >= 2) throw got;
    if (Date.now() >= deadline) throw firstError;
    if (!stable) sleep(Math.min(10 * (attempt + 1), 100));
  }
}

/** The newest complete save (the committing one, else the committed one), or why there is none. */
function readSnapshot(dir: string, expectedKinds?: string[]): Checkpoint | Error {
  const candidates = ["state.json.next", "state.json"].filter((name) => existsSync(join(dir, name)));
  if (candidates.length === 0) return new Error(`${dir} is not a checkpoint (no state.json)`);
  let error: Error | null = null;
  for (const name of candidates) {
    try {
      return readSave(dir, name, expectedKinds);
    } catch (err) {
      // The committed save's error is the one to report when no save is in progress.
      error = err as Error;
    }
  }
  return error!;
}

/** One save, described by its state file `stateName`; files may still carry the `.next` suffix. */
function readSave(dir: string, stateName: string, expectedKinds?: string[]): Checkpoint {
  const statePath = join(dir, "state.json");
  const parsed = splitStateFile(parseJsonBytes(readRegularFile(join(dir, stateName)), statePath), statePath);
  if (parsed.signed !== null && sha256(new TextEncoder().encode(parsed.signed)) !== parsed.checksum) {
    throw new Error(`checkpoint file ${statePath} is truncated or modified (checksum mismatch)`);
  }
  const read = (name: string) => readListed(dir, name, parsed, stateName !== "state.json");
  if (!parsed.files["config.json"] || !parsed.files["model.safetensors"]) throw new Error(`${statePath}: lists no config or model file`);
  const config = parseJsonBytes(read("config.json"), join(dir, "config.json")) as CheckpointConfig;
  if (typeof config !== "object" || config === null || typeof config.kind !== "string") throw new Error(`${dir}/config.json does not say what kind of model it holds`);
  if (expectedKinds && !expectedKinds.includes(config.kind)) {
    throw new Error(`${dir} holds a '${config.kind}' checkpoint, expected ${expectedKinds.map((k) => `'${k}'`).join(" or ")}`);
  }
  validateState(parsed.state, config, statePath);
  const group = (file: string) => (parsed.files[file] ? groupFromBytes(read(file), join(dir, file)) : null);
  return { config, state: parsed.state, model: group(GROUP_FILES.model)!, optimizer: group(GROUP_FILES.optimizer), ema: group(GROUP_FILES.ema) };
}

/** A listed file whose bytes match its hash: `<name>`, or during a committing save `<name>.next`. */
function readListed(dir: string, name: string, parsed: StateFile, committing: boolean): Uint8Array {
  const tries = committing ? [name, `${name}.next`, name] : [name];
  for (const file of tries) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const bytes = readRegularFile(path);
    if (sha256(bytes) === parsed.files[name]) return bytes;
  }
  if (!tries.some((file) => existsSync(join(dir, file)))) throw new Error(`checkpoint ${dir} lacks ${name}, which its state.json lists`);
  throw new Error(`checkpoint file ${join(dir, name)} is truncated or modified (checksum mismatch)`);
}

/** Renames the staged files of a committed save into place, state.json last. */
function finishSave(dir: string): void {
  const next = splitStateFile(parseJsonBytes(readRegularFile(join(dir, "state.json.next")), join(dir, "state.json.next")), join(dir, "state.json.next"));
  // The checkpoint's own names only, whatever state.json.next lists (splitStateFile refuses others too).
  for (const name of CHECKPOINT_FILES) {
    if (name !== "state.json" && next.files[name] && existsSync(join(dir, `${name}.next`))) renameSync(join(dir, `${name}.next`), join(dir, name));
  }
  renameSync(join(dir, "state.json.next"), join(dir, "state.json"));
}

/** What a save changes: the contents of the two state files (small). */
function journalMark(dir: string): string {
  return ["state.json", "state.json.next"].map((name) => {
    try {
      return sha256(readRegularFile(join(dir, name)));
    } catch {
      return "-";
    }
  }).join(",");
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function toInputs(group: TensorGroup): TensorInput[] {
  return [...group].map(([name, t]) => ({ name, dtype: "F32", shape: [...t.shape], data: t.data }));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
