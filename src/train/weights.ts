/** Moving parameters between a ParamStore and a checkpoint's tensor group. */
import type { TensorGroup } from "./checkpoint-types.js";
import type { ParamStore } from "../model/params.js";

/** The store's parameters as a tensor group, names optionally prefixed ("talker.", "reasoner."). */
export function paramsToGroup(store: ParamStore, prefix = "", into: TensorGroup = new Map()): TensorGroup {
  for (const p of store.list()) into.set(prefix + p.name, { shape: p.shape, data: p.view() });
  return into;
}

/** Loads every parameter of the store from the group (names prefixed); all must be present with equal shapes. */
export function groupToParams(group: TensorGroup, store: ParamStore, prefix = "", source = "checkpoint"): void {
  for (const p of store.list()) {
    const saved = group.get(prefix + p.name);
    if (!saved) throw new Error(`${source} has no tensor '${prefix + p.name}'`);
    if (saved.shape.length !== p.shape.length || saved.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(`${source}: tensor '${prefix + p.name}' has shape [${saved.shape}], the model needs [${p.shape}]`);
    }
    p.view().set(saved.data);
  }
}

/**
 * Copies the embedding, the first `blocks` blocks and the final norm of a pretrained
 * Transformer (the CFG recipe: a Reasoner cut from a deeper model).
 */
export function copyFirstBlocks(from: ParamStore, to: ParamStore, blocks: number): void {
  for (const p of to.list()) {
    const m = /^blocks\.(\d+)\./.exec(p.name);
    if (m && Number(m[1]) >= blocks) throw new Error(`copyFirstBlocks: target has block ${m[1]} beyond the ${blocks} to copy`);
    const src = from.get(p.name);
    if (src.size !== p.size) throw new Error(`copyFirstBlocks: '${p.name}' sizes differ (${src.size} vs ${p.size})`);
    p.view().set(src.view());
  }
}
