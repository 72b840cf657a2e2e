/**
 * Where the page gets a checkpoint: the run directory `jepa serve` serves under run/, or files
 * a person chose or dropped (the files of a talker/ directory, or one bundle file).
 */
import { parseBundle } from "../../src/train/bundle.js";
import { readCheckpointFiles, type InferenceCheckpoint } from "../../src/train/checkpoint-files.js";

/** A checkpoint and a name for it in messages. */
export interface LoadedCheckpoint {
  ckpt: InferenceCheckpoint;
  source: string;
}

/** What the server says about its run (GET run.json). */
export interface RunInfo {
  run: string;
  talker: boolean;
}

const PARTS = new Set(["config.json", "state.json", "model.safetensors", "ema.safetensors", "optimizer.safetensors"]);
const HOW = "choose config.json, state.json, model.safetensors and ema.safetensors of a run's talker/ directory together, or one bundle file written by `jepa serve --export FILE`";

/** The served run, or null when the page was not opened through `jepa serve`. */
export async function runInfo(): Promise<RunInfo | null> {
  try {
    const response = await fetch("run.json");
    if (!response.ok) return null;
    const info = (await response.json()) as RunInfo;
    return typeof info.run === "string" ? info : null;
  } catch {
    return null;
  }
}

/** The served run's Talker checkpoint, fetched and verified. */
export async function checkpointFromRun(info: RunInfo | null): Promise<LoadedCheckpoint> {
  if (!info) throw new Error("this page was not opened through `jepa serve`, so there is no run to load: choose a checkpoint's files instead");
  const source = `${info.run}/talker`;
  if (!info.talker) throw new Error(`${source} holds no checkpoint yet: train one with \`npx jepa tree\`, or choose a checkpoint's files`);
  const get = async (name: string) => {
    const response = await fetch(`run/talker/${name}`);
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`${source}/${name}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  return { ckpt: await readCheckpointFiles(get, source), source };
}

/** A checkpoint from chosen or dropped files: one bundle, or the files of a checkpoint directory. */
export async function checkpointFromFiles(files: readonly File[]): Promise<LoadedCheckpoint> {
  if (files.length === 0) throw new Error(`no file chosen: ${HOW}`);
  if (files.length === 1) return fromOneFile(files[0]);
  const byName = new Map(files.map((f) => [f.name, f]));
  if (!byName.has("state.json")) throw new Error(`the chosen files are not a checkpoint: state.json is missing (${HOW})`);
  const source = "the chosen files";
  const get = async (name: string) => {
    const file = byName.get(name);
    return file ? new Uint8Array(await file.arrayBuffer()) : null;
  };
  return { ckpt: await readCheckpointFiles(get, source), source };
}

async function fromOneFile(file: File): Promise<LoadedCheckpoint> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return { ckpt: await parseBundle(bytes, file.name), source: file.name };
  } catch (err) {
    const message = (err as Error).message;
    if (/checksum mismatch/.test(message)) throw err;
    // A bundle may carry any name, so a part's name only decides the message once parsing failed.
    if (PARTS.has(file.name)) throw new Error(`${file.name} is one file of a checkpoint directory, not a whole checkpoint: ${HOW}`);
    throw new Error(`${file.name} is not a checkpoint: ${HOW} (${message})`);
  }
}
