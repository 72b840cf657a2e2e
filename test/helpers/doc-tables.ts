/**
 * The tensor tables of docs/checkpoint-format.md, parsed: each table follows a line
 * `<!-- tensors: NAME -->` and lists `| tensor | shape | present when |`, with shapes in the
 * document's symbols and `{i}`/`{j}` standing for block indices. Tests expand them for a given
 * configuration and compare with the tensors a checkpoint really holds.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The spec document. */
export const FORMAT_DOC = fileURLToPath(new URL("../../../docs/checkpoint-format.md", import.meta.url));

/** One row of a tensor table. */
export interface TensorRow {
  name: string;
  shape: string[];
  when: string;
}

/** Every tensor table of the document, by name. */
export function tensorTables(path = FORMAT_DOC): Map<string, TensorRow[]> {
  const lines = readFileSync(path, "utf8").split("\n");
  const tables = new Map<string, TensorRow[]>();
  lines.forEach((line, n) => {
    const m = /^<!-- tensors: ([\w-]+) -->$/.exec(line.trim());
    if (!m) return;
    const rows: TensorRow[] = [];
    for (let k = n + 3; k < lines.length && lines[k].startsWith("|"); k++) {
      const cells = lines[k].split("|").slice(1, -1).map((c) => c.trim());
      rows.push({ name: cells[0].replace(/`/g, ""), shape: cells[1].replace(/[()]/g, "").split(",").map((s) => s.trim()), when: cells[2] });
    }
    tables.set(m[1], rows);
  });
  return tables;
}

/** The symbols' values and the facts the conditions ask about, for one stack. */
export interface TableContext {
  sizes: Record<string, number>;
  layers: number;
  encoderLayers?: number;
  conditions: Record<string, boolean>;
}

/** The tensors (name → shape) a table promises for a context; an unknown symbol or condition throws. */
export function expectedTensors(rows: readonly TensorRow[], ctx: TableContext): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const row of rows) {
    if (row.when !== "always") {
      if (!(row.when in ctx.conditions)) throw new Error(`unknown condition '${row.when}' of ${row.name}`);
      if (!ctx.conditions[row.when]) continue;
    }
    const shape = row.shape.map((s) => dimension(s, ctx.sizes, row.name));
    const indices = (symbol: string, count: number | undefined) => (row.name.includes(symbol) ? Array.from({ length: count ?? 0 }, (_, n) => n) : [null]);
    for (const i of indices("{i}", ctx.layers)) {
      for (const j of indices("{j}", ctx.encoderLayers)) out.set(row.name.replace("{i}", String(i)).replace("{j}", String(j)), shape);
    }
  }
  return out;
}

function dimension(text: string, sizes: Record<string, number>, name: string): number {
  const m = /^(\d*)([A-Z])$/.exec(text);
  if (!m || !(m[2] in sizes)) throw new Error(`shape '${text}' of ${name} is not a known symbol`);
  return (m[1] ? Number(m[1]) : 1) * sizes[m[2]];
}
