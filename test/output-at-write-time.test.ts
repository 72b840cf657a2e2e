/**
 * An output file is checked again when it is written, not only at the start: a file created
 * under the name of `gsm8k --out` during the evaluation is kept, and the results go to a fresh
 * file beside it, named in one error line. A real evaluation, with the file created mid-way.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { BIN, FAST, jepaOk, pretrainArgs } from "./helpers/jepa-cli.js";

const GSM8K = fileURLToPath(new URL("../../test/fixtures/gsm8k-20.jsonl", import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), "jepa-late-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("a file created under gsm8k's --out during the evaluation is kept; the results go beside it", async () => {
  const ckpt = join(ROOT, "bpe");
  jepaOk([...pretrainArgs(ckpt, 1), "--tokenizer", "bpe:260"]);
  const out = join(ROOT, "items.jsonl");
  const child = spawn(process.execPath, [BIN, "gsm8k", "--checkpoint", ckpt, "--data", GSM8K, "--max-tokens", "48", "--out", out, ...FAST], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let planted = false;
  child.stderr.on("data", (d) => {
    stderr += d;
    // The evaluation has started: --out was checked and found free.
    if (!planted && /problems, /.test(stderr)) {
      writeFileSync(out, "# notes written meanwhile\n");
      planted = true;
    }
  });
  const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.ok(planted, `the evaluation never started:\n${stderr}`);
  assert.notEqual(status, 0);
  assert.equal(readFileSync(out, "utf8"), "# notes written meanwhile\n");
  const errors = stderr.split("\n").filter((l) => l.startsWith("jepa: error:"));
  assert.equal(errors.length, 1, stderr);
  assert.match(errors[0], /--out .*items\.jsonl appeared during the run and is not a file 'jepa gsm8k' wrote: it is left as it was, and the results are in .*items\.jsonl\.1$/);
  assert.match(readFileSync(`${out}.1`, "utf8"), /"question"/);
});
