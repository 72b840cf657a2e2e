/**
 * `jepa inspect`: what a checkpoint directory holds (kind, configuration, step, best metric,
 * parameter counts per group, every tensor's name and shape), after verifying its checksums.
 */
import { parseFlags } from "./args.js";
import { checkpointFromFlag, requireFlag } from "./train-flags.js";
import type { Checkpoint, TensorGroup } from "../train/checkpoint.js";

/** Help text of `jepa inspect`. */
export const INSPECT_HELP = `usage: jepa inspect --checkpoint DIR [--json]

Verifies a checkpoint of any kind and prints its kind, configuration, training step, best
metric, parameter count per group (model, optimizer, ema) and tensor names and shapes.

flags:
  --checkpoint DIR   the checkpoint directory (required)
  --json             print one JSON object as the last stdout line`;

const FLAGS = { checkpoint: { type: "string" }, json: { type: "boolean" } } as const;

/** Runs `jepa inspect`. */
export async function inspectCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "inspect");
  const dir = requireFlag(f, "checkpoint", "inspect");
  const ckpt = checkpointFromFlag(dir, "checkpoint");
  const groups = Object.fromEntries(groupEntries(ckpt).map(([name, g]) => [name, { tensors: g.size, parameters: count(g), by_prefix: byPrefix(g) }]));
  const tensors = groupEntries(ckpt).flatMap(([group, g]) => [...g].map(([name, t]) => ({ group, name, shape: [...t.shape] })));
  const { rng: _rng, ...state } = ckpt.state;
  if (f.json) {
    console.log(JSON.stringify({ dir, kind: ckpt.config.kind, config: ckpt.config, state, groups, tensors }));
    return;
  }
  console.log(`${dir}: ${ckpt.config.kind} checkpoint` + (typeof ckpt.config.role === "string" ? ` (${ckpt.config.role})` : ""));
  console.log(`step ${state.step}, data position ${state.dataPosition}` + (state.best ? `, best ${state.best.metric} ${state.best.value} at step ${state.best.step}` : ""));
  console.log(`config: ${JSON.stringify(ckpt.config, compactTokenizer)}`);
  for (const [name, g] of Object.entries(groups)) {
    const parts = Object.entries(g.by_prefix).map(([p, n]) => `${p} ${n}`).join(", ");
    console.log(`${name}: ${g.tensors} tensors, ${g.parameters} parameters (${parts})`);
  }
  for (const t of tensors) {
    // The optimizer holds two moments per parameter, already counted above; listing them doubles the output.
    if (t.group !== "optimizer") console.log(`  ${t.group.padEnd(5)} ${t.name.padEnd(40)} [${t.shape.join(", ")}]`);
  }
}

function groupEntries(ckpt: Checkpoint): Array<[string, TensorGroup]> {
  const all: Array<[string, TensorGroup | null]> = [["model", ckpt.model], ["optimizer", ckpt.optimizer], ["ema", ckpt.ema]];
  return all.filter((e): e is [string, TensorGroup] => e[1] !== null);
}

function count(g: TensorGroup): number {
  let n = 0;
  for (const t of g.values()) n += t.data.length;
  return n;
}

/** Parameter counts by leading name segment ("talker", "reasoner", "wte", "blocks", ...). */
function byPrefix(g: TensorGroup): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of g) {
    const key = name.split(".")[0];
    out[key] = (out[key] ?? 0) + t.data.length;
  }
  return out;
}

/** Shows a stored tokenizer by its size instead of every character or merge. */
function compactTokenizer(key: string, value: unknown): unknown {
  if (key !== "tokenizer" || !value || typeof value !== "object") return value;
  const { chars, merges } = value as { chars?: unknown; merges?: unknown };
  if (Array.isArray(chars)) return `char (${chars.length} symbols + pad, end)`;
  if (Array.isArray(merges)) return `bpe (${merges.length} merges)`;
  return value;
}
