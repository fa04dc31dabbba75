/**
 * Where tokens are in a document, and how strongly to paint them: pure functions over offsets (no
 * `vscode`), so the editor's hovers, heat overlay and truncation are unit-tested without an editor.
 * All offsets are UTF-16 code units, as the tokenizer reports them and as TextDocument.positionAt takes them.
 */

/** [start, end) in a document (or in a text). */
export interface OffsetRange {
  readonly start: number;
  readonly end: number;
}

/** One tokenized text: each token's [start, end) in that text, or null for added special tokens. */
export interface TokenOffsets {
  readonly offsetsUtf16: readonly (readonly [number, number] | null)[];
  readonly special: readonly boolean[];
}

/**
 * Each token's range in the document: its offsets into the inspected text moved by the text's start
 * offset in the document. Special tokens and tokens that cover no text get null.
 */
export function tokenDocumentRanges(offsetsUtf16: TokenOffsets['offsetsUtf16'], textStart: number): (OffsetRange | null)[] {
  return offsetsUtf16.map((o) => (o && o[1] > o[0] ? { start: textStart + o[0], end: textStart + o[1] } : null));
}

/**
 * The token under a document offset: the first whose range contains it. Byte-fallback pieces of one
 * character share a range; the first of them stands for the character. -1 when no token covers it.
 */
export function tokenAtOffset(ranges: readonly (OffsetRange | null)[], offset: number): number {
  return ranges.findIndex((r) => r !== null && r.start <= offset && offset < r.end);
}

/**
 * How many UTF-16 code units of the text to keep so that it tokenizes into at most `maxTokens` tokens:
 * the special tokens the tokenizer adds (BOS, [CLS], [SEP]) come back on the re-run, so they are
 * reserved, and the rest is cut after the last text token that still fits. 0 when nothing fits.
 */
export function truncationEnd(tokens: TokenOffsets, maxTokens: number): number {
  const specials = tokens.special.filter(Boolean).length;
  const textTokens = tokens.offsetsUtf16.filter((o, i) => o !== null && !tokens.special[i]);
  const keep = Math.max(0, maxTokens - specials);
  return textTokens.slice(0, keep).reduce((end, o) => Math.max(end, o![1]), 0);
}

/** The heat overlay's number of intensities (one decoration type, one theme color each). */
export const HEAT_LEVELS = 8;
/** Weights under this share of the strongest are not painted: a faint wash over everything hides the pattern. */
const HEAT_MIN_SHARE = 1 / 32;

/**
 * The intensity (1…HEAT_LEVELS) of a weight relative to the strongest painted weight; 0 paints nothing.
 * Relative, so that the strongest partner is always fully visible, whatever the row's spread.
 */
export function heatLevel(weight: number, strongest: number): number {
  if (!(strongest > 0) || !(weight > 0)) return 0;
  const share = Math.min(1, weight / strongest);
  return share < HEAT_MIN_SHARE ? 0 : Math.max(1, Math.ceil(share * HEAT_LEVELS));
}

export interface HeatSpan extends OffsetRange {
  readonly level: number;
}

/**
 * The document ranges to paint for a weight per token, each with its level. Tokens that share a range
 * (byte-fallback pieces of one character) add up, as attention to a character is attention to any of
 * its pieces; tokens without a range are skipped.
 */
export function heatSpans(ranges: readonly (OffsetRange | null)[], weights: ArrayLike<number>): HeatSpan[] {
  const byRange = new Map<string, { range: OffsetRange; weight: number }>();
  for (let i = 0; i < weights.length; i++) {
    const range = ranges[i];
    if (!range) continue;
    const key = `${range.start}:${range.end}`;
    const entry = byRange.get(key) ?? { range, weight: 0 };
    entry.weight += weights[i];
    byRange.set(key, entry);
  }
  const strongest = Math.max(0, ...[...byRange.values()].map((e) => e.weight));
  return [...byRange.values()].flatMap(({ range, weight }) => {
    const level = heatLevel(weight, strongest);
    return level > 0 ? [{ start: range.start, end: range.end, level }] : [];
  });
}
