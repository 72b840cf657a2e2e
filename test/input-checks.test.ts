/**
 * Inputs that used to be read silently wrong are refused with the file and line: JSONL rows
 * mixing text and token ids, invalid UTF-8, GSM8K answers without exactly one numeric
 * "#### N", token ids no vocabulary could hold; and flags that used to be misread.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { parseGsm8kJsonl } from "../src/data/gsm8k.js";
import { decodeUtf8Lines, parseJsonlDataset } from "../src/data/jsonl.js";
import { FAST, jepaFails, pretrainArgs, SORT_DATA } from "./helpers/jepa-cli.js";

const ROOT = mkdtempSync(join(tmpdir(), "jepa-input-"));
after(() => rmSync(ROOT, { recursive: true, force: true }));

test("a JSONL dataset holds one kind of row, and never both fields in one row", () => {
  assert.throws(() => parseJsonlDataset('{"text":"ab"}\n{"tokens":[1,2]}\n', "d.jsonl"), { message: 'd.jsonl:2: a "tokens" row in a file whose rows hold "text" (line 1); use one kind per file' });
  assert.throws(() => parseJsonlDataset('{"tokens":[1,2]}\n\n{"text":"ab"}\n', "d.jsonl"), { message: 'd.jsonl:3: a "text" row in a file whose rows hold "tokens" (line 1); use one kind per file' });
  assert.throws(() => parseJsonlDataset('{"text":"ab","tokens":[1,2]}\n', "d.jsonl"), { message: 'd.jsonl:1: has both "text" and "tokens"; give one' });
});

test("token ids too large for an inferred vocabulary are refused, and a 300k-token line is read", () => {
  assert.throws(() => parseJsonlDataset('{"tokens":[1,2]}\n{"tokens":[3,99999999]}\n', "d.jsonl"), /^Error: d\.jsonl:2: "tokens" must be integers in \[0, 1048575\), got 99999999 \(the vocabulary is inferred as the largest id \+ 2, at most 1048576\)$/);
  assert.throws(() => parseJsonlDataset(`{"tokens":[1,${2 ** 31}]}\n`, "d.jsonl"), /d\.jsonl:1: "tokens" must be integers in \[0, 1048575\), got 2147483648/);
  const long = Array.from({ length: 300_000 }, (_, i) => i % 7);
  assert.equal(parseJsonlDataset(JSON.stringify({ tokens: long }) + "\n", "d.jsonl").dataset.vocab, 8);
});

test("bytes that are not UTF-8 are refused with their line", () => {
  const bytes = new Uint8Array([...Buffer.from('{"text":"ok"}\n{"text":"'), 0xff, 0xfe, ...Buffer.from('"}\n')]);
  assert.throws(() => decodeUtf8Lines(bytes, "d.jsonl"), { message: "d.jsonl:2: not valid UTF-8 text" });
  const file = join(ROOT, "latin1.jsonl");
  writeFileSync(file, bytes);
  jepaFails(pretrainArgs(join(ROOT, "out"), 2, file), /latin1\.jsonl:2: not valid UTF-8 text/);
});

test("a GSM8K answer needs exactly one final '#### N' with a number", () => {
  const row = (answer: string) => JSON.stringify({ question: "How many?", answer }) + "\n";
  assert.throws(() => parseGsm8kJsonl(row("so #### many"), "g.jsonl"), { message: 'g.jsonl:1: the final answer after "####" must be a number, got "many"' });
  assert.throws(() => parseGsm8kJsonl(row("2+2=4\n####"), "g.jsonl"), { message: 'g.jsonl:1: the final answer after "####" must be a number, got ""' });
  assert.throws(() => parseGsm8kJsonl(row("#### 3\n#### 4"), "g.jsonl"), { message: 'g.jsonl:1: the answer has 2 "####" marks; it needs exactly one final "#### N"' });
  assert.equal(parseGsm8kJsonl(row("so\n#### -1,250.5"), "g.jsonl").length, 1);
});

test("flags are read exactly: decimal numbers only, negative values reach the range check, no repeats", () => {
  const out = join(ROOT, "flags");
  jepaFails([...pretrainArgs(out, 2), "--lr", "0x1"], /--lr must be a finite number in \(0, 10\], got '0x1'/);
  jepaFails(["pretrain", "--data", SORT_DATA, "--out", out, "--steps", "-5", ...FAST], /--steps must be an integer from 1 to \d+, got '-5'/);
  jepaFails([...pretrainArgs(out, 2), "--steps", "3"], /--steps is given more than once; give it once/);
});
