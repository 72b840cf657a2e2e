/**
 * The browser page's HTTP server: the built page, a run directory under /run/, and /run.json
 * saying which run that is. Every response carries COOP and COEP headers, which make the page
 * cross-origin isolated: only then may its Web Workers share the engine's memory (threads).
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";

/** What the server serves. */
export interface PageServerOptions {
  /** The built page (index.html and its assets). */
  pageDir: string;
  /** A tree run's directory, served under /run/. */
  runDir: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".md": "text/markdown; charset=utf-8",
  ".jsonl": "text/plain; charset=utf-8",
};

const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  // Checkpoints change while a run trains; the page must never see a stale file.
  "Cache-Control": "no-cache",
};

/** An HTTP server for the page (not yet listening). */
export function createPageServer(options: PageServerOptions): Server {
  return createServer((req, res) => {
    try {
      handle(req, res, options);
    } catch (err) {
      send(res, 500, `server error: ${(err as Error).message}`);
    }
  });
}

function handle(req: IncomingMessage, res: ServerResponse, o: PageServerOptions): void {
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "only GET and HEAD are served");
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? "/", "http://page").pathname);
  } catch {
    return send(res, 400, "malformed URL");
  }
  if (path === "/run.json") {
    const body = JSON.stringify({ run: o.runDir, talker: existsSync(join(o.runDir, "talker", "state.json")) });
    return send(res, 200, body, TYPES[".json"]);
  }
  const file = path.startsWith("/run/") ? inside(o.runDir, path.slice(5)) : inside(o.pageDir, path === "/" ? "index.html" : path.slice(1));
  if (!file || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, `not found: ${path}`);
  res.writeHead(200, { ...HEADERS, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": statSync(file).size });
  if (req.method === "HEAD") return void res.end();
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
}

/** root/relative, or null when the path would leave root. */
function inside(root: string, relative: string): string | null {
  const base = resolve(root);
  const full = resolve(base, relative);
  return full === base || full.startsWith(base + sep) ? full : null;
}

function send(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
