/** Earley recogniser for levelled CFGs: membership, prefix viability and allowed next terminals. */
import { ensureValid, type Grammar } from "./cfg-grammar.js";

/**
 * The grammar as flat integer tables. Symbols: terminals 0..T-1, non-terminals T..T+N-1.
 * A "dotted rule" d is one position inside one rule (len + 1 per rule), so an Earley item is
 * just (d, origin) and fits in two Int32 slots.
 */
interface Compiled {
  terminalIds: Map<string, number>;
  terminals: string[];
  numSymbols: number;
  numDotted: number;
  /** Symbol after the dot, or -1 when the rule is complete. */
  dottedNext: Int32Array;
  /** Left-hand side of the dotted rule's rule. */
  dottedLhs: Int32Array;
  /** First dotted index of each non-terminal's rules, CSR-style over ruleDotted. */
  predictStart: Int32Array;
  ruleDotted: Int32Array;
  /** Dotted indices that complete the start symbol. */
  acceptDotted: Int32Array;
  start: number;
}

const compiledCache = new WeakMap<Grammar, Compiled>();

function compile(g: Grammar): Compiled {
  const cached = compiledCache.get(g);
  if (cached) return cached;
  ensureValid(g);
  const T = g.terminals.length;
  const nts = Object.keys(g.rules);
  const id = new Map<string, number>(g.terminals.map((t, i) => [t, i]));
  nts.forEach((nt, i) => id.set(nt, T + i));
  const next: number[] = [], lhs: number[] = [], ruleDotted: number[] = [], accept: number[] = [];
  const predictStart = new Int32Array(nts.length + 1);
  nts.forEach((nt, i) => {
    predictStart[i] = ruleDotted.length;
    for (const rhs of g.rules[nt]) {
      ruleDotted.push(next.length);
      for (const sym of rhs) { next.push(id.get(sym)!); lhs.push(T + i); }
      if (nt === g.start) accept.push(next.length);
      next.push(-1);
      lhs.push(T + i);
    }
  });
  predictStart[nts.length] = ruleDotted.length;
  const c: Compiled = {
    terminalIds: new Map(g.terminals.map((t, i) => [t, i])),
    terminals: [...g.terminals],
    numSymbols: T + nts.length,
    numDotted: next.length,
    dottedNext: Int32Array.from(next),
    dottedLhs: Int32Array.from(lhs),
    predictStart,
    ruleDotted: Int32Array.from(ruleDotted),
    acceptDotted: Int32Array.from(accept),
    start: id.get(g.start)!,
  };
  compiledCache.set(g, c);
  return c;
}

/** A growable Int32 buffer; the chart is append-only apart from rewinds. */
class IntBuf {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length * 2);
    this.data[this.length++] = v;
  }
  grow(capacity: number): void {
    const d = new Int32Array(capacity);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }
}

/**
 * Incremental Earley recogniser. Feed terminals one by one; rewind() drops trailing tokens in O(1),
 * so many continuations of one prefix can be checked without re-parsing the prefix.
 * Prefix viability is exact because every symbol of a validated grammar derives some string.
 */
export class EarleyParser {
  private readonly c: Compiled;
  // Items of column j live at [colStart[j], colStart[j+1]) of itemD/itemO; column j follows j terminals.
  private readonly itemD = new IntBuf();
  private readonly itemO = new IntBuf();
  private readonly colStart = new IntBuf();
  // Per column, CSR by next symbol: item indices waiting on symbol s are
  // byNext[off[s]..off[s+1]) with off = nextOff[j*(S+1) ...]; byNext is aligned with the item arrays.
  private readonly byNext = new IntBuf();
  private readonly nextOff = new IntBuf();
  private readonly accepting = new IntBuf();
  // Dedupe stamps keyed by origin*numDotted + d; a fresh generation per column build makes old stamps stale.
  private stamp = new Int32Array(0);
  private readonly predicted: Int32Array;
  private gen = 0;

  /** Creates a parser positioned at the empty prefix. */
  constructor(grammar: Grammar) {
    this.c = compile(grammar);
    this.predicted = new Int32Array(this.c.numSymbols);
    this.reset();
  }

  /** Number of terminals consumed so far. */
  get length(): number {
    return this.colStart.length - 2;
  }

  /** Forgets all input. */
  reset(): void {
    this.itemD.length = this.itemO.length = this.byNext.length = 0;
    this.colStart.length = this.nextOff.length = this.accepting.length = 0;
    this.colStart.push(0);
    this.beginColumn(0);
    this.addItemsFor(this.c.start, 0);
    this.closeColumn(0);
  }

  /** Drops input back to the first `length` terminals. */
  rewind(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) throw new Error(`rewind(${length}) outside [0, ${this.length}]`);
    const end = this.colStart.data[length + 1];
    this.colStart.length = length + 2;
    this.itemD.length = this.itemO.length = this.byNext.length = end;
    this.nextOff.length = (length + 1) * (this.c.numSymbols + 1);
    this.accepting.length = length + 1;
  }

  /** Consumes one terminal; returns whether the input so far is still a prefix of some sentence. */
  feed(token: string): boolean {
    const j = this.length;
    const t = this.c.terminalIds.get(token);
    this.beginColumn(j + 1);
    if (t !== undefined) {
      const off = j * (this.c.numSymbols + 1) + t;
      const lo = this.nextOff.data[off], hi = this.nextOff.data[off + 1];
      for (let k = lo; k < hi; k++) {
        const item = this.byNext.data[k];
        this.add(this.itemD.data[item] + 1, this.itemO.data[item]);
      }
    }
    this.closeColumn(j + 1);
    return this.viable();
  }

  /** Feeds several terminals; returns viability afterwards (stops early once dead). */
  feedAll(tokens: readonly string[]): boolean {
    for (const tok of tokens) if (!this.feed(tok)) return false;
    return this.viable();
  }

  /** Whether the input so far can still be extended to a sentence. */
  viable(): boolean {
    const j = this.length;
    return this.colStart.data[j + 1] > this.colStart.data[j];
  }

  /** Whether the input so far is a complete sentence. */
  accepts(): boolean {
    return this.accepting.data[this.length] === 1;
  }

  /** Terminals that keep the input viable, in grammar order. */
  nextTerminals(): string[] {
    const base = this.length * (this.c.numSymbols + 1);
    return this.c.terminals.filter((_, t) => this.nextOff.data[base + t + 1] > this.nextOff.data[base + t]);
  }

  private beginColumn(j: number): void {
    this.gen++;
    const need = (j + 1) * this.c.numDotted;
    if (this.stamp.length < need) {
      const s = new Int32Array(Math.max(need, this.stamp.length * 2));
      s.set(this.stamp);
      this.stamp = s;
    }
  }

  private add(d: number, origin: number): void {
    const key = origin * this.c.numDotted + d;
    if (this.stamp[key] === this.gen) return;
    this.stamp[key] = this.gen;
    this.itemD.push(d);
    this.itemO.push(origin);
  }

  private addItemsFor(nt: number, j: number): void {
    if (this.predicted[nt] === this.gen) return;
    this.predicted[nt] = this.gen;
    const c = this.c, i = nt - c.terminals.length;
    for (let r = c.predictStart[i]; r < c.predictStart[i + 1]; r++) this.add(c.ruleDotted[r], j);
  }

  /** Runs predictor and completer to a fixed point (no epsilon rules, so one pass in order suffices), then indexes the column. */
  private closeColumn(j: number): void {
    const c = this.c, S = c.numSymbols + 1, T = c.terminals.length;
    for (let k = this.colStart.data[j]; k < this.itemD.length; k++) {
      const d = this.itemD.data[k], sym = c.dottedNext[d];
      if (sym >= T) this.addItemsFor(sym, j);
      else if (sym === -1) this.complete(c.dottedLhs[d], this.itemO.data[k], S);
    }
    this.indexColumn(j, S);
    this.colStart.push(this.itemD.length);
  }

  /** Advances every item of the origin column that was waiting on the completed non-terminal. */
  private complete(lhs: number, origin: number, S: number): void {
    const off = origin * S + lhs;
    const lo = this.nextOff.data[off], hi = this.nextOff.data[off + 1];
    for (let k = lo; k < hi; k++) {
      const item = this.byNext.data[k];
      this.add(this.itemD.data[item] + 1, this.itemO.data[item]);
    }
  }

  /** Counting sort of the column's items by next symbol, plus its acceptance flag. */
  private indexColumn(j: number, S: number): void {
    const c = this.c, lo = this.colStart.data[j], hi = this.itemD.length;
    const base = this.nextOff.length;
    for (let s = 0; s <= S - 1; s++) this.nextOff.push(0);
    const off = this.nextOff.data;
    let accepted = 0;
    for (let k = lo; k < hi; k++) {
      const sym = c.dottedNext[this.itemD.data[k]];
      if (sym >= 0) off[base + sym + 1]++;
      else if (this.itemO.data[k] === 0 && c.acceptDotted.includes(this.itemD.data[k])) accepted = 1;
    }
    // Offsets are absolute positions in byNext, which mirrors the item range of this column.
    off[base] += lo;
    for (let s = 1; s < S; s++) off[base + s] += off[base + s - 1];
    if (this.byNext.data.length < hi) this.byNext.grow(Math.max(hi, this.byNext.data.length * 2));
    this.byNext.length = hi;
    const cursor = off.slice(base, base + S);
    for (let k = lo; k < hi; k++) {
      const sym = c.dottedNext[this.itemD.data[k]];
      if (sym >= 0) this.byNext.data[cursor[sym]++] = k;
    }
    this.accepting.push(accepted);
  }
}

/** Whether the terminal string is a sentence of the grammar. */
export function isDerivable(grammar: Grammar, terminals: readonly string[]): boolean {
  const p = new EarleyParser(grammar);
  return p.feedAll(terminals) && p.accepts();
}

/** Whether the terminal string can be extended (possibly by nothing) to a sentence. */
export function isValidPrefix(grammar: Grammar, terminals: readonly string[]): boolean {
  return new EarleyParser(grammar).feedAll(terminals);
}

/** Whether prefix + continuation is a prefix of some sentence, or exactly a sentence with { full: true }. */
export function completes(grammar: Grammar, prefix: readonly string[], continuation: readonly string[], options: { full?: boolean } = {}): boolean {
  const p = new EarleyParser(grammar);
  if (!p.feedAll(prefix) || !p.feedAll(continuation)) return false;
  return options.full ? p.accepts() : true;
}

/** Terminals that can follow the prefix; empty when the prefix is not viable. */
export function nextTerminals(grammar: Grammar, prefix: readonly string[]): string[] {
  const p = new EarleyParser(grammar);
  return p.feedAll(prefix) ? p.nextTerminals() : [];
}
