/**
 * The browser page, used as a person would use it, in headless Chromium (Debian's chromium,
 * driven by playwright-core): `jepa serve` serves the page and a small tree run trained here;
 * the page loads the checkpoint, runs a tree, and must show the route (and the chain, bit for
 * bit) that the Node engine computes; overwriting a token must leave the chain unchanged and
 * say so; bad input must get one clear message and break nothing.
 *
 * JEPA_WEB_RUN=DIR uses an existing tree run instead of training one, and
 * JEPA_WEB_SCREENSHOT=FILE says where the screenshot goes; docs/web-page.png is made with
 *   JEPA_WEB_RUN=runs/tree-quick JEPA_WEB_SCREENSHOT=docs/web-page.png node --test dist/test/web-page.test.js
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chromium, type Browser, type Page } from "playwright-core";
import { decodeTree, generateTree, letterId, type TreeExample } from "../src/data/tree.js";
import type { Engine } from "../src/engine/engine.js";
import { createNodeEngine } from "../src/engine/node.js";
import { Rng } from "../src/engine/rng.js";
import { MixedLatentAnalyzer, normalizeRows } from "../src/eval/mixed-latent.js";
import { rollout } from "../src/infer/rollout.js";
import { monoTalk } from "../src/infer/talk.js";
import { MonoTalker } from "../src/model/mono-talker.js";
import { EMA_NAME, Reasoner } from "../src/model/reasoner.js";
import type { TalkerConfig } from "../src/model/talker-config.js";
import type { TransformerConfig } from "../src/model/config.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { groupToParams } from "../src/train/weights.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/jepa.js");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** A tree the quick run routes correctly (so the README's screenshot shows a whole route). */
const SEED = 3;
const TALKER_FILES = ["config.json", "state.json", "model.safetensors", "ema.safetensors"];

let tmp: string;
let run: string;
let url: string;
let server: ChildProcess | null = null;
let browser: Browser | null = null;
let engine: Engine;
let reasoner: Reasoner;
let talker: MonoTalker;
let ema: Float32Array;
const pageErrors: string[] = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`headless Chromium is not installed at ${CHROMIUM}: install Debian's chromium (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`);
  }
  if (!existsSync(join(ROOT, "web/dist/index.html"))) throw new Error("the page is not built: run `npm run build`");
  tmp = mkdtempSync(join(tmpdir(), "jepa-web-"));
  run = process.env.JEPA_WEB_RUN ?? trainTinyRun(join(tmp, "run"));
  url = await startServer(run);
  browser = await chromium.launch({ executablePath: CHROMIUM });
  engine = await createNodeEngine({ threads: 1, memoryMB: 256 });
  loadNodeModels(join(run, "talker"));
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  await engine?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A tree run at the tiny preset (a few seconds); it learns next to nothing, which does not matter here. */
function trainTinyRun(out: string): string {
  const r = spawnSync(process.execPath, [BIN, "tree", "--preset", "tiny", "--no-k-sweep", "--seed", "2", "--threads", "1", "--memory", "512", "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, `training the tiny tree run failed:\n${r.stderr}`);
  return out;
}

/** Starts `jepa serve` on a free port and returns the URL it prints. */
function startServer(dir: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", "--run", dir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  server = child;
  let out = "", err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jepa serve printed no URL:\n${out}${err}`)), 20_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /http:\/\/\S+\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.on("exit", (code) => reject(new Error(`jepa serve exited with ${code}:\n${err}`)));
  });
}

/** The same models the page runs, loaded in Node the way `jepa generate` loads them. */
function loadNodeModels(dir: string): void {
  const ckpt = loadCheckpoint(dir, ["talker"]);
  const cfg = ckpt.config as unknown as { reasoner: TransformerConfig; talker: TalkerConfig };
  reasoner = new Reasoner(engine, cfg.reasoner, new Rng(0));
  groupToParams(ckpt.model, reasoner.lm.params, "reasoner.");
  talker = new MonoTalker(engine, cfg.talker, new Rng(0));
  groupToParams(ckpt.model, talker.params, "talker.");
  ema = ckpt.ema!.get(`reasoner.${EMA_NAME}`)!.data;
}

interface NodeResult {
  tokens: number[];
  fingerprint: string;
  mixes: Array<[number, number]>;
}

/** Rollout and Mono-Talker readout of one tree on the Node engine, with the page's α/β fits. */
function nodeResult(example: TreeExample): NodeResult {
  const D = reasoner.config.dModel;
  const { chain, tokens } = engine.noGrad(() => engine.scoped(() => {
    const prompt = engine.fromArray(example.tokens.slice(0, example.routeStart), [1, example.routeStart], { dtype: "i32" });
    const latents = rollout(reasoner, prompt, { steps: example.route.length + 1 });
    return { chain: latents.view().slice(), tokens: monoTalk(talker, latents)[0] };
  }));
  const analyzer = new MixedLatentAnalyzer(normalizeRows(ema, D), D, [...new Set(example.edges.flat())].map(letterId));
  const mixes = example.siblings.map(([a, b], s): [number, number] => {
    const fit = analyzer.fit(chain.subarray((s + 1) * D, (s + 2) * D), letterId(a), letterId(b));
    return [fit.alpha, fit.beta];
  });
  return { tokens, fingerprint: createHash("sha256").update(new Uint8Array(chain.buffer)).digest("hex"), mixes };
}

async function openPage(query = ""): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 1300 } });
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(url + query);
  return page;
}

/** Does something that loads a checkpoint and returns the status line it ends with. */
async function loading(page: Page, action: () => Promise<void>): Promise<{ kind: string; text: string }> {
  await action();
  await page.waitForSelector('#model-panel[aria-busy="false"]');
  return page.$eval("#status", (el) => ({ kind: el.className, text: el.textContent ?? "" }));
}

async function runTree(page: Page, text: string): Promise<void> {
  await page.fill("#tree-text", text);
  await page.click("#run");
  await page.waitForSelector('#tree-panel[aria-busy="false"]');
}

async function shownRoute(page: Page): Promise<{ letters: string; tokens: number[]; fingerprint: string; mixes: Array<[number, number]> }> {
  return {
    letters: (await page.textContent("#route")) ?? "",
    tokens: ((await page.getAttribute("#route", "data-tokens")) ?? "").split(",").map(Number),
    fingerprint: (await page.getAttribute("#fingerprint", "data-fingerprint")) ?? "",
    mixes: await page.$$eval(".mix", (els) => els.map((e): [number, number] => [Number((e as HTMLElement).dataset.alpha), Number((e as HTMLElement).dataset.beta)])),
  };
}

const promptOf = (ex: TreeExample) => ex.text.slice(0, ex.text.indexOf("[ROUTE]"));

describe("the browser page", () => {
  let page: Page;
  const example = generateTree(new Rng(SEED), { depth: 4, alphabetSize: 15 });

  test("loads the run's checkpoint and runs its engine with threads (the page is cross-origin isolated)", async () => {
    // The plain-SIMD kernels, as Node uses, so that the chains can be compared bit for bit.
    page = await openPage(`?kernels=${engine.variant === "simd" ? "simd" : "best"}`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, "jepa serve must make the page cross-origin isolated");
    const status = await loading(page, () => page.click("#load-run"));
    assert.equal(status.kind, "ok", status.text);
    assert.match(status.text, /^loaded .*talker \(step \d+\): Reasoner of \d+ blocks/);
    const threads = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.match((await page.textContent("#engine")) ?? "", new RegExp(`WebAssembly ${engine.variant} kernels, ${Math.min(threads, 8)} threads? `));
  });

  test("shows the route the Node engine computes for the same tree and seed", async () => {
    await page.fill("#seed", String(SEED));
    await page.click("#random");
    assert.equal(await page.inputValue("#tree-text"), promptOf(example), "the page draws another tree for the same seed");
    await runTree(page, promptOf(example));
    const shown = await shownRoute(page);
    const expected = nodeResult(example);
    assert.equal(shown.letters, decodeTree(expected.tokens.slice(0, 4)));
    assert.deepEqual(shown.tokens, expected.tokens);
    assert.equal(shown.fingerprint, expected.fingerprint, "the browser's chain is not bit-identical to Node's");
    assert.equal(shown.mixes.length, 3);
    shown.mixes.forEach(([a, b], i) => {
      assert.ok(Math.abs(a - expected.mixes[i][0]) < 1e-9 && Math.abs(b - expected.mixes[i][1]) < 1e-9, `α/β of step ${i + 2}: page ${a}/${b}, Node ${expected.mixes[i]}`);
    });
    assert.equal(await page.locator(".step").count(), 5);
    assert.equal(await page.locator(".step .strip svg").count(), 5, "a heat strip per latent");
    assert.match((await page.innerHTML("#pca")) ?? "", /<svg/);
  });

  test("overwriting a token the Talker read leaves the latents unchanged, and the page says so", async () => {
    const before = await shownRoute(page);
    const replacement = before.tokens[2] === letterId("B") ? "C" : "B";
    await page.selectOption('select[data-step="2"]', { label: replacement });
    await page.waitForSelector('#result[aria-busy="false"]');
    const message = (await page.textContent("#containment")) ?? "";
    assert.match(message, /bit-identical/);
    assert.match(message, /latents stay the same/);
    const after = await shownRoute(page);
    assert.equal(after.fingerprint, before.fingerprint, "the chain changed");
    assert.equal(after.tokens[2], letterId(replacement), "the route shown carries the overwritten token");
    assert.deepEqual(after.tokens.filter((_, i) => i !== 2), before.tokens.filter((_, i) => i !== 2));
    assert.equal(await page.locator("#route mark").count(), 1);
    const shot = process.env.JEPA_WEB_SCREENSHOT ?? join(tmp, "web-page.png");
    mkdirSync(join(shot, ".."), { recursive: true });
    await page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 20_000, "the screenshot is empty");
  });

  test("opens a one-file bundle chosen by the user (best kernels) and shows the same route", async () => {
    const bundle = join(tmp, "tree-model.safetensors");
    const r = spawnSync(process.execPath, [BIN, "serve", "--export", bundle, "--run", run], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    page = await openPage();
    const status = await loading(page, () => page.setInputFiles("#files", bundle));
    assert.equal(status.kind, "ok", status.text);
    await runTree(page, promptOf(example));
    assert.deepEqual((await shownRoute(page)).tokens, nodeResult(example).tokens);
  });

  test("bad input gets one clear message and breaks nothing", async () => {
    const still = /\(still using tree-model\.safetensors\)$/;
    const bad = async (files: Parameters<Page["setInputFiles"]>[1], pattern: RegExp) => {
      const status = await loading(page, () => page.setInputFiles("#files", files));
      assert.equal(status.kind, "error", status.text);
      assert.match(status.text, pattern);
      assert.match(status.text, still);
    };
    await bad({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a model") }, /^notes\.txt is not a checkpoint: choose /);
    await bad(TALKER_FILES.map((f) => join(run, "sst", f)), /holds a 'reasoner' checkpoint; the page needs the Talker checkpoint of a tree-search run/);
    await bad(tampered(), /model\.safetensors is truncated or modified \(checksum mismatch\)/);
    await bad(otherTask(), /is a Talker checkpoint of another task \('sort'\)/);
    await bad([join(run, "talker", "model.safetensors")], /^model\.safetensors is one file of a checkpoint directory/);

    const notLeaf = `${promptOf(example).replace(/\[TARGET\][A-Z]$/, `[TARGET]${example.route[1]}`)}`;
    await runTree(page, notLeaf);
    assert.match((await page.textContent("#tree-error")) ?? "", new RegExp(`^the target ${example.route[1]} is not a leaf`));
    await runTree(page, "NL,NO[ROOT]");
    assert.match((await page.textContent("#tree-error")) ?? "", /^the tree text is malformed/);

    // After all that, the page still routes the tree, and nothing was thrown on it.
    await runTree(page, promptOf(example));
    assert.equal(await page.textContent("#tree-error"), "");
    assert.deepEqual((await shownRoute(page)).tokens, nodeResult(example).tokens);
    assert.deepEqual(pageErrors, []);
  });
});

/** The Talker checkpoint's files with one byte of the weights changed. */
function tampered(): string[] {
  const dir = copyTalker("tampered");
  const model = readFileSync(join(dir, "model.safetensors"));
  model[model.length - 3] ^= 0x40;
  writeFileSync(join(dir, "model.safetensors"), model);
  return TALKER_FILES.map((f) => join(dir, f));
}

/** A consistent Talker checkpoint (checksums updated) whose config says it was trained on another task. */
function otherTask(): string[] {
  const dir = copyTalker("other-task");
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  const bytes = Buffer.from(JSON.stringify({ ...config, experiment: "sort" }, null, 2) + "\n");
  writeFileSync(join(dir, "config.json"), bytes);
  const { checksum: _old, ...state } = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { checksum: string; files: Record<string, string> };
  state.files["config.json"] = createHash("sha256").update(bytes).digest("hex");
  // state.json covers itself with a checksum of its other fields.
  writeFileSync(join(dir, "state.json"), JSON.stringify({ ...state, checksum: createHash("sha256").update(JSON.stringify(state)).digest("hex") }));
  return TALKER_FILES.map((f) => join(dir, f));
}

function copyTalker(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of TALKER_FILES) copyFileSync(join(run, "talker", f), join(dir, f));
  return dir;
}
