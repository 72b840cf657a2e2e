/** A checkpoint's weights must all be used by the models its config describes. */
import type { ParamStore } from "../model/params.js";
import type { TensorGroup } from "../train/checkpoint-types.js";

/**
 * Refuses weights that no parameter of `parts` (stores with their name prefixes) reads: the
 * config was edited (say, fewer layers) or belongs to other weights, and the model would run
 * without a word on part of what was trained.
 */
export function refuseUnusedTensors(group: TensorGroup, parts: Array<[ParamStore, string]>, dir: string): void {
  const used = new Set(parts.flatMap(([store, prefix]) => store.list().map((p) => prefix + p.name)));
  const unused = [...group.keys()].filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new Error(`${dir}: ${unused.length} tensor(s) of model.safetensors fit no parameter of the model its config.json describes (first: '${unused[0]}'); the config does not match the weights`);
  }
}
