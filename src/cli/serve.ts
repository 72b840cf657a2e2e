/**
 * `jepa serve`: the browser page that runs a trained tree-search model and shows its latent
 * reasoning, on localhost; or, with --export, the run's Talker checkpoint as one bundle file
 * for the page's "choose files" button.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { treeModelSpec } from "../experiments/tree-model.js";
import { serializeBundle } from "../train/bundle.js";
import { writeFileAtomic } from "../train/atomic.js";
import { intFlag, parseFlags } from "./args.js";
import { UsageError } from "./errors.js";
import { checkOutputFile } from "./output-guard.js";
import { isBundleFile } from "./own-outputs.js";
import { createPageServer } from "./page-server.js";
import { checkpointFromFlag } from "./train-flags.js";

/** Help text of `jepa serve`. */
export const SERVE_HELP = `usage: jepa serve [--run DIR] [--port N] | jepa serve --export FILE [--run DIR]

Serves the browser page on http://127.0.0.1: it loads the Talker checkpoint of a tree-search
run (DIR/talker, which holds the Reasoner with its EMA target and the Mono-Talker), runs both
models in the browser on the WebAssembly engine (threads: the page is cross-origin isolated),
and shows each latent step of a tree's route. Ctrl+C stops the server.

flags:
  --run DIR       the tree run to serve (default runs/tree-quick, written by \`jepa tree\`)
  --port N        port on 127.0.0.1 (default 5173; 0 = any free port)
  --export FILE   write DIR/talker as one bundle file (a .safetensors with both models, the EMA
                  target and the config) that the page can open, then exit; an existing FILE
                  is replaced only if it is such a bundle`;

const FLAGS = { run: { type: "string" }, port: { type: "string" }, export: { type: "string" } } as const;

const PAGE_DIR = fileURLToPath(new URL("../../../web/dist/", import.meta.url));
const DEFAULT_RUN = "runs/tree-quick";

/** Runs `jepa serve`. */
export async function serveCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, "serve");
  const runDir = f.run ?? DEFAULT_RUN;
  if (f.run !== undefined && !isDirectory(runDir)) throw new UsageError(`--run ${runDir}: no such directory`);
  if (f.export !== undefined) {
    if (f.port !== undefined) throw new UsageError("serve: --export writes a file and exits; --port does not apply");
    return exportBundle(runDir, f.export);
  }
  const port = intFlag(f.port, "port", 5173, 0, 65535);
  if (!existsSync(join(PAGE_DIR, "index.html"))) throw new Error(`the page is not built (${PAGE_DIR}index.html is missing): run \`npm run build\``);
  if (!existsSync(join(runDir, "talker", "state.json"))) {
    console.error(`note: ${runDir}/talker holds no checkpoint yet (\`jepa tree\` writes it); the page can still open a checkpoint's files`);
  }
  await serveUntilStopped(runDir, port);
}

async function serveUntilStopped(runDir: string, port: number): Promise<void> {
  const server = createPageServer({ pageDir: PAGE_DIR, runDir });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new UsageError(`port ${port} is in use: pass --port N (0 picks a free port)`) : err);
    });
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  console.log(`serving the page at http://127.0.0.1:${actual}/ (run: ${runDir}); Ctrl+C stops`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      // Keep-alive connections from an open tab would hold close() back.
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

async function exportBundle(runDir: string, file: string): Promise<void> {
  const dir = join(runDir, "talker");
  checkOutputFile(file, [dir], "export", "serve --export", isBundleFile);
  const ckpt = checkpointFromFlag(dir, "run", ["talker"]);
  treeModelSpec(ckpt.config, dir);
  const bytes = await serializeBundle({ config: ckpt.config, state: ckpt.state, model: ckpt.model, ema: ckpt.ema });
  writeFileAtomic(file, bytes);
  console.log(`wrote ${file} (${(bytes.length / 1048576).toFixed(1)} MB): the Talker checkpoint of ${runDir}, one file the page can open`);
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
