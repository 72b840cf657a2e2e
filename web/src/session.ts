/**
 * The page's engine and model. A new checkpoint gets a new engine sized for it; the old one is
 * closed only once the new model has loaded, so a bad checkpoint leaves the page as it was.
 */
import { createBrowserEngine } from "../../src/engine/browser.js";
import type { Engine } from "../../src/engine/engine.js";
import type { KernelPreference } from "../../src/engine/kernels.js";
import type { TreeExample } from "../../src/data/tree.js";
import { loadTreeModel, runTree, treeModelMemoryMB, treeModelSpec, type TreeModel, type TreeRun } from "../../src/experiments/tree-model.js";
import type { LoadedCheckpoint } from "./load.js";

/** The loaded model and the engine it lives in. */
export class Session {
  private engine: Engine | null = null;
  private current: TreeModel | null = null;
  private name = "";

  constructor(private readonly kernels: KernelPreference) {}

  /** The loaded model, or null before the first load. */
  get model(): TreeModel | null {
    return this.current;
  }

  /** Where the loaded model came from. */
  get source(): string {
    return this.name;
  }

  /** Replaces the model with the checkpoint's; on any error the previous model stays. */
  async load({ ckpt, source }: LoadedCheckpoint): Promise<void> {
    treeModelSpec(ckpt.config, source);
    const memoryMB = treeModelMemoryMB(ckpt);
    const engine = await createBrowserEngine({ memoryMB, kernels: this.kernels });
    let model: TreeModel;
    try {
      model = loadTreeModel(engine, ckpt, source);
    } catch (err) {
      await engine.close();
      throw err;
    }
    const old = this.engine;
    [this.engine, this.current, this.name] = [engine, model, source];
    await old?.close();
  }

  /** Rolls out the tree's chain and lets the Talker read it. */
  run(example: TreeExample): TreeRun {
    if (!this.engine || !this.current) throw new Error("load a checkpoint first");
    return runTree(this.engine, this.current, example);
  }

  /** One line about the engine: kernels, threads, memory. */
  describe(): string {
    const e = this.engine;
    if (!e) return "engine: not started";
    const isolation = globalThis.crossOriginIsolated ? "the page is cross-origin isolated" : "the page is not cross-origin isolated, so one thread";
    return `engine: WebAssembly ${e.variant} kernels, ${e.threads} thread${e.threads === 1 ? "" : "s"} (${isolation}), ${Math.round(e.heap.bytes / 1048576)} MB memory`;
  }
}
