/**
 * The browser page's HTTP server: the built page, the run's Talker checkpoint files under
 * /run/talker/, and /run.json naming the run. Every response carries COOP and COEP headers,
 * which make the page cross-origin isolated: only then may its Web Workers share the engine's
 * memory (threads).
 *
 * It serves nothing else: only the four files the page loads from the run (not optimizer
 * states or other phases), each by its real path, which must lie inside the run (a symlink
 * out of it is not followed), and only to requests whose Host is this server on the loopback
 * address, so that a page from elsewhere that rebinds its DNS name to 127.0.0.1 reads nothing.
 */
import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename, extname, join, resolve, sep } from "node:path";

/** What the server serves. */
export interface PageServerOptions {
  /** The built page (index.html and its assets). */
  pageDir: string;
  /** A tree run's directory, served under /run/. */
  runDir: string;
}

/** The files of the run's talker/ checkpoint that the page fetches. */
const RUN_FILES = new Set(["config.json", "state.json", "model.safetensors", "ema.safetensors"]);

/** Host names that mean this machine's loopback address. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

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
  if (!loopbackHost(req)) return send(res, 403, "this server answers only requests for localhost, 127.0.0.1 or [::1] at its own port");
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? "/", "http://page").pathname);
  } catch {
    return send(res, 400, "malformed URL");
  }
  if (path === "/run.json") {
    // The folder's name only: the page shows it, and nobody else needs the machine's layout.
    const body = JSON.stringify({ run: basename(resolve(o.runDir)), talker: existsSync(join(o.runDir, "talker", "state.json")) });
    return send(res, 200, body, TYPES[".json"]);
  }
  const file = path.startsWith("/run/") ? runFile(o.runDir, path.slice(5)) : inside(o.pageDir, path === "/" ? "index.html" : path.slice(1));
  if (!file || !statSync(file).isFile()) return send(res, 404, `not found: ${path}`);
  res.writeHead(200, { ...HEADERS, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": statSync(file).size });
  if (req.method === "HEAD") return void res.end();
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
}

/** The real path of one of the talker files the page needs, or null. */
function runFile(runDir: string, relative: string): string | null {
  const [folder, name, ...more] = relative.split("/");
  if (folder !== "talker" || more.length > 0 || !RUN_FILES.has(name)) return null;
  return inside(runDir, relative);
}

/** The real path of root/relative, or null when it does not exist or lies outside root's real path. */
function inside(root: string, relative: string): string | null {
  if (!existsSync(root)) return null;
  const base = realpathSync(root);
  const full = resolve(base, relative);
  if (!full.startsWith(base + sep) || !existsSync(full)) return null;
  const real = realpathSync(full);
  return real.startsWith(base + sep) ? real : null;
}

/** Whether the request names this server on a loopback host (a DNS-rebinding page names its own host). */
function loopbackHost(req: IncomingMessage): boolean {
  const match = /^(\[::1\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? "");
  if (!match) return false;
  const port = match[2] === undefined ? 80 : Number(match[2]);
  return LOOPBACK_HOSTS.has(match[1].toLowerCase()) && port === req.socket.localPort;
}

function send(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
