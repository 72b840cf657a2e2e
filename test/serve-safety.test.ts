/**
 * `jepa serve` gives out only the four files the page loads from the run's Talker checkpoint,
 * by real path (a real symlink out of the run is not followed), never the run's absolute
 * path, and answers only requests whose Host header is this server on a loopback name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BIN, jepaOk, pretrainArgs } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-serve-safe-"));
const RUN = join(ROOT, "my-run");
let server: ChildProcess | null = null;
let port = 0;

before(async () => {
  // The server hands out files without reading them as a model, so any checkpoint will do.
  jepaOk(pretrainArgs(join(RUN, "talker"), 2));
  cpSync(join(RUN, "talker"), join(RUN, "pretrain"), { recursive: true });
  symlinkSync("/", join(RUN, "root"));
  server = spawn(process.execPath, [BIN, "serve", "--run", RUN, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  port = await new Promise<number>((resolve, reject) => {
    let out = "";
    server!.stdout!.on("data", (d) => {
      out += d;
      const m = /127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server!.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
});
after(() => {
  server?.kill("SIGKILL");
  rmSync(ROOT, { recursive: true, force: true });
});

/** GET path with the given Host header; resolves to the status and body. */
function get(path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("only the page's four Talker files are served from the run", async () => {
  for (const name of ["config.json", "state.json", "model.safetensors"]) assert.equal((await get(`/run/talker/${name}`)).status, 200, name);
  for (const path of ["/run/talker/optimizer.safetensors", "/run/talker/metrics.jsonl", "/run/pretrain/model.safetensors", "/run/root/etc/passwd", "/run/talker/.jepa-run"]) {
    assert.equal((await get(path)).status, 404, path);
  }
});

test("a real symlink inside the run to a file outside it is not followed", async () => {
  const ema = join(RUN, "talker", "ema.safetensors");
  symlinkSync("/etc/passwd", ema);
  try {
    const r = await get("/run/talker/ema.safetensors");
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /root:/);
  } finally {
    unlinkSync(ema);
  }
});

test("/run.json names the run's folder, not its absolute path", async () => {
  const r = await get("/run.json");
  assert.deepEqual(JSON.parse(r.body), { run: "my-run", talker: true });
  assert.ok(!r.body.includes(ROOT));
});

test("a request for another host name or port (DNS rebinding) is refused", async () => {
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) assert.equal((await get("/run.json", host)).status, 200, host);
  for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`, "127.0.0.1"]) {
    const r = await get("/run/talker/state.json", host);
    assert.equal(r.status, 403, host);
    assert.doesNotMatch(r.body, /files/);
  }
});
