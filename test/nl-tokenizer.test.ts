// Tokenizers: the byte-level BPE trained on a corpus, GPT-2's BPE offline, the character
// tokenizer behind the same interface, and restoring each from what a checkpoint stores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpeTokenizer, BPE_MIN_VOCAB, pretokenize } from "../src/data/bpe.js";
import { CharTokenizer } from "../src/data/char-tokenizer.js";
import { buildTokenizer, restoreTokenizer, type Tokenizer } from "../src/data/tokenizer.js";

const CORPUS = [
  "Mia has 14 marbles. She buys 3 bags with 6 marbles each.",
  "Mia buys 3 * 6 = <<3*6=18>>18 marbles.\nShe has 14 + 18 = <<14+18=32>>32 marbles.\n#### 32",
  "Ben has 20 apples. He gives 5 apples to Mia. How many apples does Ben have now?",
  "Ben has 20 - 5 = <<20-5=15>>15 apples.\n#### 15",
];

test("BPE: merges frequent pieces, keeps digits apart, and round-trips any text", () => {
  const bpe = BpeTokenizer.train(CORPUS, 300);
  assert.ok(bpe.size > BPE_MIN_VOCAB && bpe.size <= 300, `size ${bpe.size}`);
  const ids = bpe.encode(" marbles");
  assert.equal(ids.length, 1, "a frequent word becomes one token");
  assert.equal(bpe.tokenText(ids[0]), " marbles");
  assert.equal(bpe.encode("1234").length, 4, "each digit is a token of its own");
  assert.deepEqual(pretokenize("has 14 + 18=32."), ["has", " 1", "4", " +", " 1", "8", "=", "3", "2", "."]);
  for (const text of [CORPUS[1], "Zoë paid €3.50 — ok?\n\n", "", "\t  spaces  "]) assert.equal(bpe.decode(bpe.encode(text)), text);
  assert.ok(bpe.encode("€").every((id) => id >= 2 && id < BPE_MIN_VOCAB), "an unseen character falls back to its bytes");
  assert.equal(bpe.decode([bpe.endId, bpe.padId]), "⏎");
  assert.throws(() => bpe.decode([bpe.size]), /outside the vocabulary/);
});

test("BPE training is deterministic and stops when no pair repeats", () => {
  const a = BpeTokenizer.train(CORPUS, 280), b = BpeTokenizer.train(CORPUS, 280);
  assert.deepEqual(a.toJSON(), b.toJSON());
  const small = BpeTokenizer.train(["ab ab"], 1000);
  assert.equal(small.size, BPE_MIN_VOCAB + 1, "only the pair a,b repeats");
  assert.throws(() => BpeTokenizer.train(CORPUS, 100), /from 258 to 65536/);
});

test("GPT-2 BPE works offline with GPT-2's ids, and cannot be fed an end token by text", async () => {
  const gpt2 = await buildTokenizer("gpt2", []);
  assert.deepEqual(gpt2.encode("Hello world"), [15496, 995]);
  assert.equal(gpt2.size, 50258);
  assert.equal(gpt2.endId, 50256);
  assert.equal(gpt2.padId, 50257);
  assert.ok(gpt2.encode("<|endoftext|>").every((id) => id !== gpt2.endId));
  assert.equal(gpt2.decode([15496, 995, gpt2.endId, gpt2.padId]), "Hello world⏎");
  assert.equal(gpt2.decode(gpt2.encode("1,234 $5.\n\nQ:")), "1,234 $5.\n\nQ:");
});

test("every kind is restored from its JSON to a tokenizer that encodes identically", async () => {
  const text = "Ben has 20 - 5 = 15 apples.";
  const kinds: Tokenizer[] = [CharTokenizer.fromTexts(CORPUS), BpeTokenizer.train(CORPUS, 300), await buildTokenizer("gpt2", [])];
  for (const t of kinds) {
    const back = await restoreTokenizer(JSON.parse(JSON.stringify(t.toJSON())), "config.json");
    assert.equal(back.kind, t.kind);
    assert.equal(back.size, t.size);
    assert.deepEqual(back.encode(text), t.encode(text));
    assert.equal(back.tokenText(t.endId), "<end>");
  }
  assert.equal((await buildTokenizer("bpe:300", CORPUS)).size, BpeTokenizer.train(CORPUS, 300).size);
  await assert.rejects(buildTokenizer("wordpiece", CORPUS), /unknown tokenizer 'wordpiece'/);
  await assert.rejects(restoreTokenizer({ kind: "sentencepiece" }, "x/config.json"), /x\/config.json: unreadable tokenizer/);
  await assert.rejects(restoreTokenizer({ kind: "bpe", merges: [[300, 2]] }, "c"), /merge 0 \(300, 2\)/);
  await assert.rejects(restoreTokenizer({ kind: "char", chars: ["ab"] }, "c"), /single characters/);
});
