/**
 * Reading a checkpoint from files held in memory (fetched by a page, or chosen by a person),
 * with the checks loading from disk makes: the format version, state.json's own checksum and
 * fields, the SHA-256 of every file that state.json lists, strict safetensors parsing. No file system: the browser page uses this.
 * The optimizer moments are never read, since running a model does not need them.
 */
import { splitStateFile, validateState } from "./checkpoint-state.js";
import { GROUP_FILES, groupFromBytes, parseJsonBytes, type Checkpoint, type CheckpointConfig } from "./checkpoint-types.js";
import { sha256Hex } from "./sha256.js";

/** A checkpoint for running a model: configuration, state, weights and EMA target (no optimizer). */
export type InferenceCheckpoint = Omit<Checkpoint, "optimizer">;

/** A file of the checkpoint by name ("state.json", "model.safetensors", ...), or null when it is absent. */
export type FileSource = (name: string) => Promise<Uint8Array | null>;

/** Reads and verifies the checkpoint whose files `get` returns; messages name the checkpoint `source`. */
export async function readCheckpointFiles(get: FileSource, source: string): Promise<InferenceCheckpoint> {
  const stateBytes = await get("state.json");
  if (!stateBytes) throw new Error(`${source} is not a checkpoint (it has no state.json)`);
  const parsed = splitStateFile(parseJsonBytes(stateBytes, `${source}/state.json`), `${source}/state.json`);
  if (parsed.signed !== null && (await sha256Hex(new TextEncoder().encode(parsed.signed))) !== parsed.checksum) {
    throw new Error(`checkpoint file ${source}/state.json is truncated or modified (checksum mismatch)`);
  }
  const files = parsed.files;
  if (!files["config.json"] || !files[GROUP_FILES.model]) throw new Error(`${source}/state.json lists no config or model file`);
  const read = async (name: string): Promise<Uint8Array> => {
    const bytes = await get(name);
    if (!bytes) throw new Error(`${source} lacks ${name}, which its state.json lists`);
    if ((await sha256Hex(bytes)) !== files[name]) throw new Error(`checkpoint file ${source}/${name} is truncated or modified (checksum mismatch)`);
    return bytes;
  };
  const config = parseJsonBytes(await read("config.json"), `${source}/config.json`) as CheckpointConfig;
  if (typeof config !== "object" || config === null || typeof config.kind !== "string") throw new Error(`${source}/config.json does not say what kind of model it holds`);
  validateState(parsed.state, config, `${source}/state.json`);
  const model = groupFromBytes(await read(GROUP_FILES.model), `${source}/${GROUP_FILES.model}`);
  const ema = files[GROUP_FILES.ema] ? groupFromBytes(await read(GROUP_FILES.ema), `${source}/${GROUP_FILES.ema}`) : null;
  return { config, state: parsed.state, model, ema };
}
