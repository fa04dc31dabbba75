/**
 * The demo's tokenizer rules and vocabulary, in the spirit of the tutorial's hand-built vocabulary:
 * every CJK character is a token, runs of letters or digits (with inner apostrophes) are words, and each
 * other non-space character stands alone. Ids are handed out in order of first appearance and shared
 * by every text inspected in this process, so a source and its target use one vocabulary.
 */

export interface Segment {
  readonly text: string;
  /** [start, end) in UTF-16 code units. */
  readonly start: number;
  readonly end: number;
}

// One CJK ideograph (or kana) | a word with optional inner apostrophes | any other visible character.
const SEGMENT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[^\s]/gu;

export function demoSegments(text: string): Segment[] {
  const out: Segment[] = [];
  for (const m of text.matchAll(SEGMENT)) out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length });
  return out;
}

export class DemoVocabulary {
  static readonly shared = new DemoVocabulary();
  private readonly ids = new Map<string, number>();
  private readonly tokens: string[] = [];

  idOf(token: string): number {
    let id = this.ids.get(token);
    if (id === undefined) {
      id = this.tokens.length;
      this.tokens.push(token);
      this.ids.set(token, id);
    }
    return id;
  }

  tokenOf(id: number): string | undefined {
    return this.tokens[id];
  }

  get size(): number {
    return this.tokens.length;
  }
}
