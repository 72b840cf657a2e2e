/**
 * docs/checkpoint-format.md against the checkpoints the code writes: every tensor table, expanded
 * for a checkpoint's config, must name exactly the tensors (and shapes) of that checkpoint, for
 * each kind (transformer, reasoner, Mono- and Dual-Talker, a tree run's stages), the optimizer
 * files, and the latents file of `jepa generate --latents`. Tree checkpoints record the task.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEngine } from "../src/engine/node.js";
import { parseSafetensors } from "../src/engine/safetensors.js";
import { TREE_VOCAB } from "../src/data/tree.js";
import type { TransformerConfig } from "../src/model/config.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import { loadCheckpoint, type TensorGroup } from "../src/train/checkpoint.js";
import { expectedTensors, tensorTables, type TableContext } from "./helpers/doc-tables.js";
import { FAST, jepaOk, pretrainArgs, SORT_DATA } from "./helpers/jepa-cli.js";
import { writeTalkerCheckpoint } from "./helpers/talker-checkpoint.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-format-"));
const dir = (name: string) => join(ROOT, name);
const tables = tensorTables();

before(async () => {
  jepaOk([...pretrainArgs(dir("pre"), 2), "--attn-dim", "48", "--heads", "3", "--qk-norm", "temp"]);
  jepaOk(["sst", "--init", dir("pre"), "--data", SORT_DATA, "--out", dir("sst"), "--steps", "2", ...FAST]);
  const talker = (out: string, extra: string[]) => jepaOk(["talker", "--reasoner", dir("sst"), "--data", SORT_DATA, "--out", out, "--steps", "2", "--talker-preset", "tiny", ...extra, ...FAST]);
  talker(dir("mono"), ["--talker-d-model", "16", "--talker-attn-dim", "16"]);
  talker(dir("dual"), ["--kind", "dual"]);
  jepaOk(["tree", "--preset", "tiny", "--out", dir("tree"), "--no-k-sweep", ...FAST]);
  // The CLI has no QK-Norm flag for Talkers: a Dual-Talker with the "temp" variant and an input projection is written in-process.
  const engine = await createNodeEngine({ threads: 1, memoryMB: 256 });
  try {
    const stack = { dModel: 24, layers: 1, heads: 2, attnDim: 16, mlpDim: 32, normEps: 1e-5, ropeBase: 10000, qkNorm: "temp" as const };
    writeTalkerCheckpoint(engine, dir("dual-temp"), {
      reasoner: { dModel: 16, layers: 1, heads: 2, attnDim: 16, mlpDim: 32, normEps: 1e-5, ropeBase: 10000 },
      talker: { kind: "dual", stack, encoderLayers: 2, causal: false }, answerLength: 3,
    }, 7);
  } finally {
    await engine.close();
  }
});
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** The symbols and conditions of a Transformer stack's tables. */
function stackContext(c: TransformerConfig, extra: Partial<TableContext> = {}): TableContext {
  return {
    sizes: { V: c.vocab, D: c.dModel, A: c.attnDim, F: c.mlpDim, H: c.heads, ...extra.sizes },
    layers: c.layers, encoderLayers: extra.encoderLayers,
    conditions: { "qkNorm = temp": c.qkNorm === "temp", ...extra.conditions },
  };
}

function table(name: string): NonNullable<ReturnType<typeof tables.get>> {
  const rows = tables.get(name);
  assert.ok(rows, `docs/checkpoint-format.md has no tensor table '${name}'`);
  return rows;
}

/** Names and shapes of a tensor group, for comparison. */
function shapes(group: TensorGroup | null, strip = ""): Map<string, number[]> {
  return new Map([...(group ?? [])].map(([name, t]) => [name.startsWith(strip) ? name.slice(strip.length) : name, [...t.shape]]));
}

function assertSame(actual: Map<string, number[]>, expected: Map<string, number[]>, what: string): void {
  const sorted = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  assert.deepEqual(sorted(actual), sorted(expected), `${what}: the checkpoint's tensors differ from the document's table`);
}

/** The tables of a Talker checkpoint's model group: the Reasoner's under `reasoner.`, the Talker's. */
function talkerModelTensors(config: { reasoner: TransformerConfig; talker: TalkerConfig }): Map<string, number[]> {
  const r = config.reasoner, t = config.talker;
  const reasoner = [...expectedTensors(table("transformer"), stackContext(r))].map(([n, s]) => [`reasoner.${n}`, s] as const);
  const ctx = stackContext(t.stack, { sizes: { L: t.latentDim }, encoderLayers: t.encoderLayers, conditions: { "latentDim ≠ dModel": t.latentDim !== t.stack.dModel } });
  return new Map([...reasoner, ...expectedTensors(table(t.kind === "mono" ? "mono-talker" : "dual-talker"), ctx)]);
}

/** Every trained tensor's two AdamW moments. */
function moments(params: Map<string, number[]>): Map<string, number[]> {
  return new Map([...params].flatMap(([n, s]) => [[`${n}.m`, s], [`${n}.v`, s]] as Array<[string, number[]]>));
}

test("transformer and reasoner checkpoints hold the tensors of the Transformer, EMA and optimizer tables", () => {
  for (const name of ["pre", "sst"]) {
    const ckpt = loadCheckpoint(dir(name));
    const model = ckpt.config.model as TransformerConfig;
    const expected = expectedTensors(table("transformer"), stackContext(model));
    assert.equal(model.qkNorm, "temp");
    assertSame(shapes(ckpt.model), expected, `${name} model`);
    assertSame(shapes(ckpt.optimizer), moments(expected), `${name} optimizer`);
    if (name === "sst") assertSame(shapes(ckpt.ema), expectedTensors(table("reasoner-ema"), stackContext(model)), "sst ema");
    else assert.equal(ckpt.ema, null);
  }
});

test("Talker checkpoints hold reasoner.* and talker.* as tabled, the EMA as reasoner.ema.wte.weight, and the Talker's moments unprefixed", () => {
  for (const name of ["mono", "dual", "dual-temp"]) {
    const ckpt = loadCheckpoint(dir(name));
    const config = ckpt.config as unknown as { reasoner: TransformerConfig; talker: TalkerConfig };
    const expected = talkerModelTensors(config);
    assertSame(shapes(ckpt.model), expected, `${name} model`);
    assertSame(shapes(ckpt.ema), expectedTensors(table("talker-ema"), stackContext(config.reasoner)), `${name} ema`);
    if (name !== "dual-temp") {
      const talkerOnly = new Map([...expected].filter(([n]) => n.startsWith("talker.")).map(([n, s]) => [n.slice("talker.".length), s]));
      assertSame(shapes(ckpt.optimizer), moments(talkerOnly), `${name} optimizer`);
    }
  }
  const mono = loadCheckpoint(dir("mono")).model;
  assert.ok(mono.has("talker.in_proj.weight"), "the Mono-Talker narrower than the latents has in_proj");
  assert.ok(loadCheckpoint(dir("dual-temp")).model.has("talker.decoder.0.cross.qk_temp"), "cross-attention has its own temperatures");
  assert.ok(!loadCheckpoint(dir("dual")).model.has("talker.in_proj.weight"), "no in_proj at equal widths");
});

test("every stage of a tree run records the tree vocabulary, alphabet size and depth, and its tensors are tabled", () => {
  const settings = JSON.parse(readFileSync(join(dir("tree"), "settings.json"), "utf8")) as { preset: { depth: number; alphabetSize: number } };
  for (const stage of ["pretrain", "baseline", "sst", "talker"]) {
    const ckpt = loadCheckpoint(join(dir("tree"), stage));
    assert.deepEqual(ckpt.config.tree, { vocab: [...TREE_VOCAB], alphabetSize: settings.preset.alphabetSize, depth: settings.preset.depth }, stage);
    if (stage === "talker") assertSame(shapes(ckpt.model), talkerModelTensors(ckpt.config as never), "tree talker");
  }
  assert.deepEqual(TREE_VOCAB.slice(0, 3), ["<pad>", "<end>", "A"]);
  assert.equal(TREE_VOCAB.indexOf("[ROUTE]"), 31, "the ids of section 4.4");
});

test("jepa generate --latents writes the tabled latents file", () => {
  const out = join(ROOT, "latents.safetensors");
  jepaOk(["generate", "--checkpoint", dir("mono"), "--prompt", "93157=", "--latents", out, ...FAST]);
  const file = parseSafetensors(new Uint8Array(readFileSync(out)));
  const config = loadCheckpoint(dir("mono")).config as unknown as { reasoner: TransformerConfig; answer: { length: number } };
  const expected = expectedTensors(table("latents"), { sizes: { S: config.answer.length, D: config.reasoner.dModel }, layers: 0, conditions: {} });
  assertSame(new Map([...file.tensors].map(([n, t]) => [n, t.shape])), expected, "latents file");
  assert.equal(file.metadata.format, "jepa-latents/1");
  assert.deepEqual(JSON.parse(file.metadata.prompt_tokens), [11, 5, 3, 7, 9, 12], "char ids are index + 2");
});
