/**
 * GPT-2's BPE (the r50k_base ranks that ship with the gpt-tokenizer package, so it works
 * offline). Ids 0..50255 are GPT-2's tokens and 50256 is <|endoftext|>, our end token; GPT-2
 * has no padding token, so one is added as id 50257 (vocabulary 50258).
 */
import type { Tokenizer } from "./tokenizer.js";

/** What a checkpoint stores: the name is enough, the ranks ship with the package. */
export interface Gpt2JSON {
  kind: "gpt2";
}

interface Codec {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(ids: Iterable<number>): string;
}

const END = 50256;

/** GPT-2 BPE behind the project's tokenizer interface. */
export class Gpt2Tokenizer implements Tokenizer {
  readonly kind = "gpt2";
  readonly size = END + 2;
  readonly endId = END;
  readonly padId = END + 1;

  constructor(private readonly codec: Codec) {}

  /**
   * Token ids of a text. The literal string "<|endoftext|>" inside a text is encoded as
   * ordinary text, so data can never inject an end token.
   */
  encode(text: string): number[] {
    return this.codec.encode(text, { disallowedSpecial: new Set() });
  }

  /** The text of token ids: padding dropped, <|endoftext|> shown as ⏎. */
  decode(ids: ArrayLike<number>): string {
    let text = "";
    let run: number[] = [];
    const flush = () => {
      if (run.length) text += this.codec.decode(run);
      run = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new Error(`token id ${id} is outside the vocabulary of ${this.size}`);
      if (id === this.padId) continue;
      if (id === this.endId) {
        flush();
        text += "⏎";
      } else {
        run.push(id);
      }
    }
    flush();
    return text;
  }

  /** One token as readable text: its text, or <pad> / <end>. */
  tokenText(id: number): string {
    if (id === this.padId) return "<pad>";
    if (id === this.endId) return "<end>";
    return this.decode([id]);
  }

  /** What a checkpoint stores to rebuild the tokenizer. */
  toJSON(): Gpt2JSON {
    return { kind: "gpt2" };
  }
}

let loaded: Promise<Gpt2Tokenizer> | null = null;

/** The GPT-2 tokenizer; its ranks (a few MB) are loaded on first use only. */
export function loadGpt2Tokenizer(): Promise<Gpt2Tokenizer> {
  loaded ??= import("gpt-tokenizer/encoding/r50k_base").then((m) => new Gpt2Tokenizer(m.default as unknown as Codec));
  return loaded;
}
