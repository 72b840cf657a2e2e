// Regenerates the committed CFG grammars (data/cfg/<preset>.json) from their fixed seeds.
// Run after `npx tsc -p tsconfig.json`: node scripts/make-grammars.mjs [--check]
// --check writes nothing and exits 1 if a committed file differs from what the generator gives.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatGrammarJson, generateGrammar, GRAMMAR_PRESETS, lengthRange, expectedLength } from "../dist/src/data/cfg-grammar.js";

const dir = fileURLToPath(new URL("../data/cfg/", import.meta.url));
const check = process.argv.includes("--check");
let stale = 0;
mkdirSync(dir, { recursive: true });
for (const [name, options] of Object.entries(GRAMMAR_PRESETS)) {
  const grammar = generateGrammar(options);
  const text = formatGrammarJson(grammar);
  const file = `${dir}${name}.json`;
  const same = existsSync(file) && readFileSync(file, "utf8") === text;
  if (check) stale += same ? 0 : 1;
  else if (!same) writeFileSync(file, text);
  const [lo, hi] = lengthRange(grammar);
  console.log(`${name}: ${Object.keys(grammar.rules).length} non-terminals, length ${lo}..${hi} (mean ${expectedLength(grammar).toFixed(1)}) ${same ? "unchanged" : check ? "DIFFERS" : "written"} -> ${file}`);
}
if (stale > 0) process.exit(1);
