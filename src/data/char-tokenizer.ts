/** A character-level tokenizer: each distinct character is a token, plus padding and end. */
import type { Tokenizer } from "./tokenizer.js";

/** Maps characters to ids and back; ids 0 and 1 are <pad> and <end>. */
export class CharTokenizer implements Tokenizer {
  readonly kind = "char";
  readonly chars: string[];
  private readonly ids: Map<string, number>;
  readonly padId = 0;
  readonly endId = 1;

  constructor(chars: string[]) {
    this.chars = chars;
    this.ids = new Map(chars.map((c, i) => [c, i + 2]));
    if (this.ids.size !== chars.length) throw new Error("tokenizer: repeated characters");
  }

  /** The characters of the texts, sorted, as a vocabulary. */
  static fromTexts(texts: string[]): CharTokenizer {
    const set = new Set<string>();
    for (const t of texts) for (const c of t) set.add(c);
    return new CharTokenizer([...set].sort());
  }

  /** The tokenizer a checkpoint stored with toJSON(). */
  static fromJSON(value: unknown): CharTokenizer {
    const chars = (value as { chars?: unknown }).chars;
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === "string" && [...c].length === 1)) throw new Error("'chars' must be a list of single characters");
    return new CharTokenizer(chars as string[]);
  }

  /** Vocabulary size including the two special tokens. */
  get size(): number {
    return this.chars.length + 2;
  }

  /** Token ids of a text; an unknown character is an error naming it. */
  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) throw new Error(`character ${JSON.stringify(c)} at position ${i} is not in the vocabulary`);
      out.push(id);
      i++;
    }
    return out;
  }

  /** The text of token ids (padding dropped, <end> shown as ⏎). */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.padId) continue;
      if (id === this.endId) s += "⏎";
      else if (id >= 2 && id < this.size) s += this.chars[id - 2];
      else throw new Error(`token id ${id} is outside the vocabulary of ${this.size}`);
    }
    return s;
  }

  /** One token as readable text: its character, or <pad> / <end>. */
  tokenText(id: number): string {
    if (id === this.padId) return "<pad>";
    if (id === this.endId) return "<end>";
    return this.decode([id]);
  }

  /** What a checkpoint stores to rebuild the tokenizer. */
  toJSON(): { kind: "char"; chars: string[] } {
    return { kind: "char", chars: this.chars };
  }
}
