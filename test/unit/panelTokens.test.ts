/** Display tokens: subwords merged into words by their offsets, special tokens hidden, matrices folded to match. */
import * as assert from 'assert';
import type { PanelTokens } from '../../src/protocol/messages';
import { foldMatrix } from '../../src/view-model/matrices';
import { continuesWord, displayTokens, tokenLabel, uprightLabel } from '../../src/view-model/tokens';

function tokens(text: string, pieces: [string, [number, number] | null][]): PanelTokens {
  return {
    text, ids: pieces.map((_, i) => i), tokens: pieces.map(([t]) => t),
    offsetsUtf16: pieces.map(([, o]) => o), special: pieces.map(([, o]) => o === null),
  };
}

// Llama (SentencePiece, Metaspace): "<s> ▁Once ▁upon ▁a ▁time ▁g ir l", each piece's span includes its space.
const LLAMA = tokens(' Once upon a girl', [
  ['<s>', null], ['▁Once', [0, 5]], ['▁upon', [5, 10]], ['▁a', [10, 12]], ['▁g', [12, 14]], ['ir', [14, 16]], ['l', [16, 17]],
]);

describe('panel display tokens', () => {
  it('merges pieces that continue a word and keeps words apart at spaces', () => {
    const d = displayTokens(LLAMA, { hideSpecial: false, mergeWords: true });
    assert.deepStrictEqual(d.groups, [[0], [1], [2], [3], [4, 5, 6]]);
    assert.deepStrictEqual(d.labels, ['<s>', '␣Once', '␣upon', '␣a', '␣girl']);
    assert.deepStrictEqual(Array.from(d.displayOf), [0, 1, 2, 3, 4, 4, 4]);
    assert.strictEqual(d.identity, false);
  });

  it('hides special tokens', () => {
    const d = displayTokens(LLAMA, { hideSpecial: true, mergeWords: false });
    assert.deepStrictEqual(d.labels, ['␣Once', '␣upon', '␣a', '␣g', 'ir', 'l']);
    assert.strictEqual(d.displayOf[0], -1);
  });

  it('is the identity when nothing is merged or hidden', () => {
    const d = displayTokens(LLAMA, { hideSpecial: false, mergeWords: false });
    assert.strictEqual(d.identity, true);
    assert.strictEqual(d.groups.length, 7);
  });

  it('merges byte-fallback pieces of one character (overlapping spans) but keeps Han characters apart', () => {
    const zh = tokens('雨很', [['<0xE9>', [0, 1]], ['<0x9B>', [0, 1]], ['<0xA8>', [0, 1]], ['很', [1, 2]]]);
    const d = displayTokens(zh, { hideSpecial: false, mergeWords: true });
    assert.deepStrictEqual(d.groups, [[0, 1, 2], [3]]);
    assert.deepStrictEqual(d.labels, ['雨', '很']);
  });

  it('splits at punctuation and cannot merge without the text', () => {
    const code = tokens('a.b', [['a', [0, 1]], ['.', [1, 2]], ['b', [2, 3]]]);
    assert.strictEqual(continuesWord(code, 1), false);
    assert.strictEqual(continuesWord(code, 2), false);
    const noText = { ...LLAMA, text: null };
    assert.strictEqual(displayTokens(noText, { hideSpecial: false, mergeWords: true }).identity, true);
  });

  it('shows every space marker, space, newline and tab visibly, the same for SentencePiece and byte-level tokens', () => {
    assert.strictEqual(tokenLabel('▁upon'), '␣upon');
    assert.strictEqual(tokenLabel('Ġworld'), '␣world');
    assert.strictEqual(tokenLabel(' world'), '␣world');
    assert.strictEqual(tokenLabel('▁'), '␣');
    assert.strictEqual(tokenLabel('▁▁'), '␣␣');
    assert.strictEqual(tokenLabel('Ċ'), '↵');
    assert.strictEqual(tokenLabel('ĊĊ'), '↵↵');
    assert.strictEqual(tokenLabel('\r\n'), '↵');
    assert.strictEqual(tokenLabel('ĉx'), '⇥x');
    assert.strictEqual(tokenLabel('雨'), '雨');
  });

  it('draws short Chinese, Japanese and Korean labels upright, everything else rotated', () => {
    for (const label of ['雨', '那天', '。', '，', 'です', '한국']) assert.strictEqual(uprightLabel(label), true, label);
    for (const label of ['', 'rain', '␣雨', '雨a', '那天雨很大了']) assert.strictEqual(uprightLabel(label), false, label);
  });

  it('folds a matrix: a word as key sums its pieces, as query averages them', () => {
    // 3 tokens; tokens 1 and 2 form one word.
    const data = Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
    const folded = foldMatrix({ heads: 1, rows: 3, cols: 3, data }, [[0], [1, 2]], [[0], [1, 2]]);
    assert.deepStrictEqual([folded.rows, folded.cols], [2, 2]);
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
    near(folded.data[0], 1);
    near(folded.data[1], 0);
    near(folded.data[2], (0.5 + 0.2) / 2);
    near(folded.data[3], (0.5 + 0.8) / 2);
  });

  it('renormalizes rows over the keys shown when a key is hidden', () => {
    const data = Float32Array.from([0.6, 0.2, 0.2, 0.5, 0.25, 0.25]);
    const folded = foldMatrix({ heads: 2, rows: 1, cols: 3, data }, [[0]], [[1], [2]]);
    assert.deepStrictEqual(Array.from(folded.data), [0.5, 0.5, 0.5, 0.5]);
  });
});
