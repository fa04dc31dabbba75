/**
 * What the panel shows as tokens: the model's tokens, or words merged from subword tokens using their
 * offsets into the text, with special tokens optionally hidden. A "display token" is a group of model
 * token indices; the matrices are folded the same way (see foldMatrix in matrices.ts).
 */
import type { PanelTokens } from '../protocol/messages';

export interface TokenOptions {
  readonly hideSpecial: boolean;
  readonly mergeWords: boolean;
}

export interface DisplayTokens {
  readonly labels: string[];
  /** Model token indices behind each display token, ascending. */
  readonly groups: number[][];
  /** Display index of each model token; -1 where hidden. */
  readonly displayOf: Int32Array;
  /** True when the display tokens are exactly the model tokens (no copy of the matrices needed). */
  readonly identity: boolean;
}

// Han, kana and hangul are written without spaces: each character counts as a word of its own.
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && WORD_CHAR.test(ch) && !UNSPACED_SCRIPT.test(ch);
}

/** The character ending just before UTF-16 index `end` and the one starting at `start`. */
function charBefore(text: string, end: number): string | undefined {
  if (end <= 0) return undefined;
  const low = text.charCodeAt(end - 1);
  const pairStart = low >= 0xdc00 && low <= 0xdfff && end >= 2 ? end - 2 : end - 1;
  return String.fromCodePoint(text.codePointAt(pairStart)!);
}

function charAt(text: string, start: number): string | undefined {
  return start < text.length ? String.fromCodePoint(text.codePointAt(start)!) : undefined;
}

/**
 * True when model token `t` continues the word of token `t - 1`: both cover text, and either their spans
 * overlap (byte-fallback pieces of one character) or they touch with word characters on both sides.
 */
export function continuesWord(tokens: PanelTokens, t: number): boolean {
  const text = tokens.text;
  const prev = tokens.offsetsUtf16[t - 1], cur = tokens.offsetsUtf16[t];
  if (text === null || t === 0 || !prev || !cur || tokens.special[t] || tokens.special[t - 1]) return false;
  if (cur[0] === cur[1] || prev[0] === prev[1]) return false;
  if (cur[0] < prev[1]) return true;
  return cur[0] === prev[1] && isWordChar(charBefore(text, prev[1])) && isWordChar(charAt(text, cur[0]));
}

/** What the panel and the hovers show for a space, a newline and a tab inside a token. */
const VISIBLE_SPACE = '␣';
const VISIBLE_NEWLINE = '↵';
const VISIBLE_TAB = '⇥';

/**
 * Readable label of a model token, the same in the panel and the hovers: SentencePiece's ▁ and
 * byte-level BPE's Ġ (and real spaces) shown as ␣, byte-level Ċ and newlines as ↵, ĉ and tabs as ⇥.
 */
export function tokenLabel(token: string): string {
  return visibleWhitespace(token.replace(/[▁Ġ]/gu, ' ').replace(/Ċ/gu, '\n').replace(/ĉ/gu, '\t'));
}

/** Text with its spaces, newlines and tabs made visible (merged words are slices of the text). */
function visibleWhitespace(text: string): string {
  return text.replace(/ /g, VISIBLE_SPACE).replace(/\r\n|\n|\r/g, VISIBLE_NEWLINE).replace(/\t/g, VISIBLE_TAB);
}

/** CJK punctuation and fullwidth forms, which are written upright with the characters around them. */
const UPRIGHT_PUNCTUATION = /[\u3000-\u303f\uff00-\uffef]/u;

/** True for short labels of Chinese, Japanese or Korean characters only: drawn upright in column labels. */
export function uprightLabel(label: string): boolean {
  const chars = [...label];
  return chars.length > 0 && chars.length <= 4 && chars.every((ch) => UNSPACED_SCRIPT.test(ch) || UPRIGHT_PUNCTUATION.test(ch));
}

export function displayTokens(tokens: PanelTokens, options: TokenOptions): DisplayTokens {
  const count = tokens.tokens.length;
  const groups: number[][] = [];
  const displayOf = new Int32Array(count).fill(-1);
  const merge = options.mergeWords && tokens.text !== null;
  for (let t = 0; t < count; t++) {
    if (options.hideSpecial && tokens.special[t]) continue;
    if (merge && groups.length && continuesWord(tokens, t) && displayOf[t - 1] === groups.length - 1) {
      groups[groups.length - 1].push(t);
    } else {
      groups.push([t]);
    }
    displayOf[t] = groups.length - 1;
  }
  const labels = groups.map((group) => groupLabel(tokens, group));
  return { labels, groups, displayOf, identity: groups.length === count && groups.every((g) => g.length === 1) };
}

function groupLabel(tokens: PanelTokens, group: number[]): string {
  if (group.length === 1) return tokenLabel(tokens.tokens[group[0]]);
  const first = tokens.offsetsUtf16[group[0]]!, last = tokens.offsetsUtf16[group[group.length - 1]]!;
  return visibleWhitespace(tokens.text!.slice(first[0], last[1]));
}
