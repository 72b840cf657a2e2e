/**
 * The training state a checkpoint's state.json holds, checked field by field: a forged or
 * corrupted state would otherwise resume a run at a wrong step, data position or best metric
 * without a word. state.json also carries a SHA-256 of its own other fields (`checksum`), so
 * the whole checkpoint is covered by hashes. Shared by the Node and browser readers.
 */
import { CHECKPOINT_FORMAT, GROUP_FILES, type CheckpointConfig, type TrainingState } from "./checkpoint-types.js";

/** Format 1 (written before state.json carried its own checksum) is still read, without one. */
const LEGACY_FORMAT = 1;

/** The files a state.json may list. Finishing a save renames each listed file, so a name such as `../x` must never get that far. */
const LISTABLE = ["config.json", ...Object.values(GROUP_FILES)];

/** state.json as parsed: the training state, the format, the file hashes and the checksum. */
export interface StateFile {
  state: TrainingState;
  files: Record<string, string>;
  /** The text the checksum covers, or null for a legacy checkpoint. */
  signed: string | null;
  checksum: string | null;
}

/** The JSON text state.json holds for `body` (format, state, files), with its checksum added by `hash`. */
export function stateFileText(body: Record<string, unknown>, hash: (text: string) => string): string {
  return JSON.stringify({ ...body, checksum: hash(JSON.stringify(body)) }, null, 2) + "\n";
}

/** Splits parsed state.json into its parts; throws one line naming `path` when its shape is wrong. */
export function splitStateFile(value: unknown, path: string): StateFile {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${path} is not the state of a checkpoint (not a JSON object)`);
  const { checksum, ...body } = value as Record<string, unknown>;
  const format = body.format;
  if (format !== CHECKPOINT_FORMAT && !(format === LEGACY_FORMAT && checksum === undefined)) {
    throw new Error(`${path}: unsupported checkpoint format ${format === undefined ? "(none given)" : JSON.stringify(format)} (expected ${CHECKPOINT_FORMAT})`);
  }
  if (format === CHECKPOINT_FORMAT && (typeof checksum !== "string" || !/^[0-9a-f]{64}$/.test(checksum))) throw new Error(`${path} has no valid checksum`);
  const files = body.files;
  if (typeof files !== "object" || files === null || Array.isArray(files) || Object.values(files).some((h) => typeof h !== "string")) {
    throw new Error(`${path}: 'files' must map file names to SHA-256 hashes`);
  }
  const stranger = Object.keys(files).find((name) => !LISTABLE.includes(name));
  if (stranger !== undefined) throw new Error(`${path}: lists ${JSON.stringify(stranger)}, which is not a checkpoint file (expected ${LISTABLE.join(", ")})`);
  const { files: _f, format: _v, ...state } = body;
  return { state: state as TrainingState, files: files as Record<string, string>, signed: format === CHECKPOINT_FORMAT ? JSON.stringify(body) : null, checksum: (checksum as string) ?? null };
}

/** Checks every field of a training state against its checkpoint's config; throws one line naming `path`. */
export function validateState(state: TrainingState, config: CheckpointConfig, path: string): void {
  const bad = (what: string) => new Error(`${path}: ${what}`);
  const training = (config.training ?? null) as { steps?: unknown; batch?: unknown } | null;
  const steps = typeof training?.steps === "number" ? training.steps : Infinity;
  if (!isCount(state.step) || state.step > steps) throw bad(`step must be an integer from 0 to ${steps}, got ${shown(state.step)}`);
  if (!isCount(state.dataPosition)) throw bad(`dataPosition must be a non-negative integer, got ${shown(state.dataPosition)}`);
  // The loop advances the data position by one batch a step, so any other value is not its own.
  if (typeof training?.batch === "number" && state.dataPosition !== state.step * training.batch) {
    throw bad(`dataPosition ${state.dataPosition} is not step ${state.step} × batch ${training.batch}`);
  }
  if (!validRng(state.rng)) throw bad("rng must be four 32-bit unsigned integers and a spare normal (a number or null)");
  if (state.best !== null) validateBest(state.best, state.step, bad);
}

function validateBest(best: unknown, step: number, bad: (what: string) => Error): void {
  const b = best as { metric?: unknown; value?: unknown; step?: unknown } | undefined;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw bad("best must be null or { metric, value, step }");
  if (typeof b.metric !== "string" || b.metric === "") throw bad("best.metric must be a metric's name");
  if (typeof b.value !== "number" || !Number.isFinite(b.value)) throw bad("best.value must be a finite number");
  if (!isCount(b.step) || b.step < 1 || b.step > step) throw bad(`best.step must be an integer from 1 to the checkpoint's step ${step}`);
}

function shown(x: unknown): string {
  return x === undefined ? "nothing" : JSON.stringify(x);
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function validRng(rng: unknown): boolean {
  if (!Array.isArray(rng) || (rng.length !== 4 && rng.length !== 5)) return false;
  if (rng.slice(0, 4).some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) return false;
  return rng.length === 4 || rng[4] === null || (typeof rng[4] === "number" && Number.isFinite(rng[4]));
}
