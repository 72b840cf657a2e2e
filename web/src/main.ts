/**
 * The page: load a tree-search checkpoint, pick or edit a tree, run the Reasoner and the
 * Mono-Talker in the browser, and show every latent step. Overwriting a token the Talker read
 * runs the Reasoner again and shows that its chain has not changed (error containment).
 */
import { decodeTree, generateTree, parseTree, TREE_VOCAB, type TreeExample } from "../../src/data/tree.js";
import { treeProblemFromText } from "../../src/data/tree-problem.js";
import { browserThreads } from "../../src/engine/browser.js";
import { Rng } from "../../src/engine/rng.js";
import type { TreeRun } from "../../src/experiments/tree-model.js";
import { sha256Hex } from "../../src/train/sha256.js";
import { byId, messageOf, setStatus } from "./dom.js";
import { checkpointFromFiles, checkpointFromRun, runInfo, type LoadedCheckpoint, type RunInfo } from "./load.js";
import { Session } from "./session.js";
import { analyzeChain } from "./steps.js";
import { treeSvg } from "./tree-svg.js";
import { pcaSvg, routeHtml, stepsHtml, verdict } from "./views.js";

/** A tree that has been run: the chain, the Talker's tokens and the tokens on display. */
interface Shown {
  example: TreeExample;
  run: TreeRun;
  fingerprint: string;
  shown: number[];
}

const ui = {
  engine: byId("engine"), loadRun: byId<HTMLButtonElement>("load-run"), runName: byId("run-name"), files: byId<HTMLInputElement>("files"),
  modelPanel: byId("model-panel"), treePanel: byId("tree-panel"), drop: byId("drop"), status: byId("status"), seed: byId<HTMLInputElement>("seed"),
  random: byId<HTMLButtonElement>("random"), run: byId<HTMLButtonElement>("run"), treeText: byId<HTMLTextAreaElement>("tree-text"),
  treeNote: byId("tree-note"), treeError: byId("tree-error"), treeView: byId("tree-view"), result: byId("result"), pcaPanel: byId("pca-panel"), route: byId("route"),
  verdict: byId("verdict"), fingerprint: byId("fingerprint"), containment: byId("containment"), steps: byId("steps"), pca: byId("pca"),
};
const session = new Session(new URLSearchParams(location.search).get("kernels") === "simd" ? "simd" : "best");
// Asked once at start; the load button awaits it, so an early click still finds the run.
const served: Promise<RunInfo | null> = runInfo();
let current: Shown | null = null;

const depth = () => session.model?.spec.depth ?? 4;
const promptOf = (text: string) => text.replace(/\s+/g, "").replace(/\[ROUTE\].*$/, "");

async function start(): Promise<void> {
  const threads = browserThreads();
  ui.engine.textContent = `engine: starts when a checkpoint is loaded; ${threads} thread${threads === 1 ? "" : "s"} available (${globalThis.crossOriginIsolated ? "the page is cross-origin isolated" : "the page is not cross-origin isolated, so one thread"})`;
  randomTree();
  const info = await served;
  ui.runName.textContent = info ? `${info.run}/talker${info.talker ? "" : " (no checkpoint there yet)"}` : "(the page was not opened through jepa serve)";
}

async function load(get: () => Promise<LoadedCheckpoint>): Promise<void> {
  ui.modelPanel.setAttribute("aria-busy", "true");
  setStatus(ui.status, "busy", "loading and verifying the checkpoint…");
  for (const b of [ui.loadRun, ui.run]) b.disabled = true;
  try {
    const loaded = await get();
    await session.load(loaded);
    const m = session.model!;
    const count = (n: number) => n.toLocaleString("en-US");
    setStatus(ui.status, "ok", `loaded ${loaded.source} (step ${loaded.ckpt.state.step}): Reasoner of ${m.spec.reasoner.layers} blocks, width ${m.spec.reasoner.dModel}, ${count(m.reasoner.lm.params.count())} parameters; Mono-Talker of ${m.spec.talker.stack.layers} blocks, ${count(m.talker.params.count())} parameters; trees of depth ${m.spec.depth}`);
    ui.engine.textContent = session.describe();
    // What is on display came from the previous model.
    current = null;
    ui.result.hidden = ui.pcaPanel.hidden = true;
    if (parsesAtDepth(ui.treeText.value)) drawTree();
    else randomTree();
  } catch (err) {
    const still = session.model ? ` (still using ${session.source})` : "";
    setStatus(ui.status, "error", `${messageOf(err)}${still}`);
  } finally {
    ui.loadRun.disabled = false;
    ui.run.disabled = !session.model;
    ui.modelPanel.setAttribute("aria-busy", "false");
  }
}

function parsesAtDepth(text: string): boolean {
  try {
    treeProblemFromText(text, depth());
    return true;
  } catch {
    return false;
  }
}

function randomTree(): void {
  const seed = Number(ui.seed.value);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    ui.treeError.textContent = `the seed must be a whole number ≥ 0, got '${ui.seed.value}'`;
    return;
  }
  const d = depth();
  const example = generateTree(new Rng(seed), { depth: d, alphabetSize: Math.max(15, 2 ** d - 1) });
  ui.treeText.value = promptOf(example.text);
  ui.treeNote.textContent = `a random tree from seed ${seed}`;
  ui.seed.value = String(seed + 1);
  ui.treeError.textContent = "";
  drawTree();
}

function drawTree(): void {
  try {
    const tree = parseTree(promptOf(ui.treeText.value));
    const same = current && promptOf(current.example.text) === promptOf(ui.treeText.value);
    const talker = same ? current!.shown.slice(0, depth()).map((id) => TREE_VOCAB[id]) : null;
    ui.treeView.innerHTML = treeSvg(tree, { correct: same ? current!.example.route : null, talker });
  } catch {
    // Half-typed text: keep the last drawing; Run reports what is wrong.
  }
}

async function runTree(): Promise<void> {
  ui.treeError.textContent = "";
  let example: TreeExample;
  try {
    if (!session.model) throw new Error("load a checkpoint first (step 1)");
    example = treeProblemFromText(ui.treeText.value, depth());
  } catch (err) {
    ui.treeError.textContent = messageOf(err);
    return;
  }
  const run = session.run(example);
  current = { example, run, fingerprint: await fingerprint(run.chain), shown: [...run.tokens] };
  ui.containment.textContent = "";
  ui.containment.className = "";
  render();
}

function render(): void {
  if (!current || !session.model) return;
  const { example, run, shown } = current;
  const D = session.model.spec.reasoner.dModel;
  ui.result.hidden = false;
  ui.pcaPanel.hidden = false;
  ui.route.innerHTML = routeHtml(shown, run.tokens, example.route.length);
  ui.route.dataset.tokens = shown.join(",");
  // The verdict is on the Talker's own reading; an overwritten letter is marked and said to be yours.
  const v = verdict(run.tokens, example);
  const overwritten = shown.some((t, i) => t !== run.tokens[i]);
  ui.verdict.textContent = overwritten ? `(marked: your overwrite; the Talker read ${decodeTree(run.tokens.slice(0, example.route.length))} ${v.text})` : v.text;
  ui.verdict.className = v.ok ? "correct" : "wrong";
  ui.fingerprint.textContent = `the chain: ${shown.length} latents of ${D} numbers, SHA-256 ${current.fingerprint.slice(0, 16)}…`;
  ui.fingerprint.dataset.fingerprint = current.fingerprint;
  ui.steps.innerHTML = stepsHtml(analyzeChain(run.chain, run.tokens, example, session.model.ema, D), shown);
  ui.pca.innerHTML = pcaSvg(run.chain, example, session.model.ema, D);
  drawTree();
}

/** Puts a person's token in place of the Talker's, then runs the Reasoner again and compares the chains. */
async function overwrite(step: number, token: number): Promise<void> {
  if (!current) return;
  const before = current.run;
  const was = current.shown[step];
  current.shown[step] = token;
  const again = session.run(current.example);
  const print = await fingerprint(again.chain);
  const same = print === current.fingerprint && equalBits(before.chain, again.chain);
  const sameTokens = again.tokens.every((t, i) => t === before.tokens[i]);
  current.run = again;
  render();
  const n = again.tokens.length;
  if (!same) {
    ui.containment.className = "error";
    ui.containment.textContent = `The chain changed after a token was overwritten (SHA-256 ${print.slice(0, 16)}… instead of ${current.fingerprint.slice(0, 16)}…). That should be impossible.`;
    return;
  }
  ui.containment.className = "";
  ui.containment.textContent = `You replaced the token read from latent ${step + 1}: ${TREE_VOCAB[was]} → ${TREE_VOCAB[token]}. `
    + `The Reasoner was then run again from the same prompt: its ${n} latents are bit-identical to before (SHA-256 ${print.slice(0, 16)}… both times)`
    + `${sameTokens ? ", and the Talker reads the same tokens from them" : ""}. The latents stay the same: the Reasoner never sees a token the Talker produced, `
    + "so an error in the output cannot spread into the reasoning.";
}

function equalBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function fingerprint(chain: Float32Array): Promise<string> {
  return sha256Hex(new Uint8Array(chain.buffer, chain.byteOffset, chain.byteLength));
}

function setTarget(node: string): void {
  const text = promptOf(ui.treeText.value);
  if (!/\[TARGET\][A-Z]$/.test(text)) return;
  ui.treeText.value = text.replace(/\[TARGET\][A-Z]$/, `[TARGET]${node}`);
  ui.treeNote.textContent = `target set to ${node}`;
  drawTree();
}

function wire(): void {
  ui.loadRun.addEventListener("click", () => void load(async () => checkpointFromRun(await served)));
  ui.files.addEventListener("change", () => {
    const files = [...(ui.files.files ?? [])];
    ui.files.value = ""; // so that choosing the same files again fires another change
    void load(() => checkpointFromFiles(files));
  });
  ui.modelPanel.addEventListener("dragover", (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
  ui.modelPanel.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.modelPanel.addEventListener("drop", (e) => {
    e.preventDefault();
    ui.drop.classList.remove("over");
    void load(() => checkpointFromFiles([...(e.dataTransfer?.files ?? [])]));
  });
  ui.random.addEventListener("click", randomTree);
  ui.run.addEventListener("click", () => void guarded(runTree, ui.treePanel));
  ui.treeText.addEventListener("input", () => {
    ui.treeNote.textContent = "";
    drawTree();
  });
  ui.treeView.addEventListener("click", (e) => {
    const node = (e.target as Element).closest(".leaf")?.getAttribute("data-node");
    if (node) setTarget(node);
  });
  ui.steps.addEventListener("change", (e) => {
    const select = e.target as HTMLSelectElement;
    if (select.dataset.step !== undefined) void guarded(() => overwrite(Number(select.dataset.step), Number(select.value)), ui.result);
  });
  window.addEventListener("error", (e) => setStatus(ui.status, "error", `unexpected error: ${e.message}`));
  window.addEventListener("unhandledrejection", (e) => setStatus(ui.status, "error", `unexpected error: ${messageOf(e.reason)}`));
}

/** Runs an action with `panel` marked busy; a failure becomes one message on the page, not a broken page. */
async function guarded(action: () => Promise<void>, panel: HTMLElement): Promise<void> {
  panel.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (err) {
    setStatus(ui.status, "error", messageOf(err));
  } finally {
    panel.setAttribute("aria-busy", "false");
  }
}

wire();
void start();
