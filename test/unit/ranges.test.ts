/** Token offsets to document ranges, the token under a position, truncation, and heat levels (src/host/editor/ranges.ts). */
import * as assert from 'assert';
import { HEAT_LEVELS, heatLevel, heatSpans, tokenAtOffset, tokenDocumentRanges, truncationEnd } from '../../src/host/editor/ranges';
import { loadModel } from '../../src/engine/loadModel';
import { sharedPath } from '../helpers/shared';

describe('editor ranges', () => {
  it('moves token offsets by the selection start and drops special tokens and empty spans', () => {
    const ranges = tokenDocumentRanges([null, [0, 4], [4, 10], [10, 10]], 100);
    assert.deepStrictEqual(ranges, [null, { start: 100, end: 104 }, { start: 104, end: 110 }, null]);
  });

  it('maps UTF-16 offsets of real tokenizers to the exact characters of the document, astral characters included', async () => {
    const prefix = 'line one\n  ';
    const text = 'Once upon a time 🙂 there was 那天雨很大';
    const document = prefix + text + '\ntrailing';
    const loaded = loadModel(sharedPath('models', 'llama-stories260K'));
    const encoded = await loaded.tokenizer!.encode(text);
    const ranges = tokenDocumentRanges(encoded.offsetsUtf16, prefix.length);
    // Byte-fallback pieces of one character (the emoji, each Han character here) share its range.
    const distinct = ranges.filter((r, i) => r !== null && !(i > 0 && ranges[i - 1]?.start === r.start && ranges[i - 1]?.end === r.end));
    const covered = distinct.map((r) => document.slice(r!.start, r!.end)).join('');
    assert.strictEqual(covered.replace(/\s/g, ''), text.replace(/\s/g, ''), 'the tokens cover the selected text, in order');
    const emoji = document.indexOf('🙂');
    const token = tokenAtOffset(ranges, emoji);
    assert.ok(token >= 0, 'a token covers the emoji');
    assert.ok(ranges[token]!.start <= emoji && ranges[token]!.end >= emoji + 2, 'the token spans both UTF-16 units of the emoji');
  });

  it('finds the token under an offset: the first of tokens sharing a range, -1 outside every token', () => {
    const ranges = [{ start: 0, end: 2 }, { start: 2, end: 5 }, { start: 2, end: 5 }, null, { start: 6, end: 8 }];
    assert.strictEqual(tokenAtOffset(ranges, 0), 0);
    assert.strictEqual(tokenAtOffset(ranges, 1), 0);
    assert.strictEqual(tokenAtOffset(ranges, 2), 1);
    assert.strictEqual(tokenAtOffset(ranges, 5), -1);
    assert.strictEqual(tokenAtOffset(ranges, 7), 4);
    assert.strictEqual(tokenAtOffset(ranges, 8), -1);
  });

  it('truncates after the last text token that fits, keeping room for the special tokens a re-run adds', () => {
    // [CLS] a b c d [SEP]: 6 tokens; 4 allowed leaves 2 text tokens.
    const tokens = { offsetsUtf16: [null, [0, 1], [2, 3], [4, 5], [6, 7], null] as const, special: [true, false, false, false, false, true] };
    assert.strictEqual(truncationEnd(tokens, 4), 3);
    assert.strictEqual(truncationEnd(tokens, 6), 7);
    assert.strictEqual(truncationEnd(tokens, 2), 0);
  });

  it('a truncated text re-tokenizes into at most the limit', async () => {
    const loaded = loadModel(sharedPath('models', 'llama-stories260K'));
    const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';
    const full = await loaded.tokenizer!.encode(text);
    for (const limit of [3, 7, 12]) {
      const again = await loaded.tokenizer!.encode(text.slice(0, truncationEnd(full, limit)));
      assert.ok(again.ids.length <= limit, `limit ${limit}: ${again.ids.length} tokens`);
      assert.ok(again.ids.length >= limit - 1, `limit ${limit}: kept as much as fits (${again.ids.length})`);
    }
  });

  it('grades weights into levels relative to the strongest, leaving faint ones unpainted', () => {
    assert.strictEqual(heatLevel(0.5, 0.5), HEAT_LEVELS);
    assert.strictEqual(heatLevel(0.25, 0.5), HEAT_LEVELS / 2);
    assert.strictEqual(heatLevel(0.001, 0.5), 0);
    assert.strictEqual(heatLevel(0.02, 0.5), 1);
    assert.strictEqual(heatLevel(0, 0), 0);
    assert.strictEqual(heatLevel(Number.NaN, 1), 0);
  });

  it('paints each range once, adding the weights of tokens that share it', () => {
    const ranges = [{ start: 0, end: 1 }, { start: 1, end: 2 }, { start: 1, end: 2 }, null, { start: 3, end: 4 }];
    const spans = heatSpans(ranges, [0.1, 0.2, 0.2, 0.9, 0.0001]);
    assert.deepStrictEqual(spans, [{ start: 0, end: 1, level: 2 }, { start: 1, end: 2, level: 8 }]);
  });
});
