/** Aggregation over heads and layers, top-k keys, and which links the head view draws. */
import * as assert from 'assert';
import { matrixColumn, matrixRow, reduceHeads, reduceMatrices, topIndices, type HeadMatrices } from '../../src/view-model/matrices';
import { ALL_LINKS_FOCUSED_MAX, ALL_LINKS_UNFOCUSED_MAX, FOCUSED_MIN_OPACITY, FOCUSED_TOP_VISIBLE, focusWeights, MIN_OPACITY, selectLinks, TOP_K_FOCUSED, TOP_K_UNFOCUSED } from '../../src/view-model/links';

/** heads × n × n rows that are softmax-like: row i peaks at key (i + head) mod n. */
function peaked(heads: number, n: number): HeadMatrices {
  const data = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const row = data.subarray((h * n + i) * n, (h * n + i + 1) * n);
      for (let j = 0; j < n; j++) row[j] = Math.exp(-Math.abs(j - ((i + h) % n)));
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((v, j) => (row[j] = v / sum));
    }
  }
  return { heads, rows: n, cols: n, data };
}

describe('panel matrices and links', () => {
  it('takes the mean and the max of layers element-wise', () => {
    const a = { heads: 1, rows: 1, cols: 2, data: Float32Array.from([0.2, 0.8]) };
    const b = { heads: 1, rows: 1, cols: 2, data: Float32Array.from([0.6, 0.4]) };
    assert.deepStrictEqual(Array.from(reduceMatrices([a, b], 'mean').data).map((x) => +x.toFixed(6)), [0.4, 0.6]);
    assert.deepStrictEqual(Array.from(reduceMatrices([a, b], 'max').data).map((x) => +x.toFixed(6)), [0.6, 0.8]);
    assert.strictEqual(reduceMatrices([a], 'mean'), a);
    assert.throws(() => reduceMatrices([a, { ...b, data: new Float32Array(3) }], 'mean'), /shape/);
  });

  it('reduces the chosen heads to one matrix', () => {
    const m = { heads: 3, rows: 1, cols: 2, data: Float32Array.from([1, 0, 0, 1, 0.5, 0.5]) };
    assert.deepStrictEqual(Array.from(reduceHeads(m, [0, 1], 'mean').data), [0.5, 0.5]);
    assert.deepStrictEqual(Array.from(reduceHeads(m, [0, 2], 'max').data), [1, 0.5]);
    assert.deepStrictEqual(Array.from(reduceHeads(m, [], 'mean').data), [0, 0]);
    assert.strictEqual(reduceHeads(m, [1], 'mean').heads, 1);
  });

  it('finds the k largest values, largest first, lower index on ties', () => {
    const v = Float32Array.from([0.1, 0.5, 0.2, 0.5, 0.05, 0.9]);
    assert.deepStrictEqual(topIndices(v, 3), [5, 1, 3]);
    assert.deepStrictEqual(topIndices(v, 10), [5, 1, 3, 2, 0, 4]);
    assert.deepStrictEqual(topIndices(v, 0), []);
  });

  it('reads a column across rows', () => {
    const m = { heads: 2, rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    assert.deepStrictEqual(Array.from(matrixColumn(m, 1, 1)), [6, 8]);
  });

  it('draws every key of a focused query with opacity = weight ÷ active heads', () => {
    const m = peaked(4, 16);
    const links = selectLinks({ matrices: m, heads: [0, 2], activeCount: 2, focus: { side: 'query', index: 5 }, rows: { start: 0, end: 0 } });
    assert.ok(links.every((l) => l.query === 5 && (l.head === 0 || l.head === 2)));
    for (const l of links) {
      const strongest = topIndices(matrixRow(m, l.head, 5), FOCUSED_TOP_VISIBLE);
      assert.strictEqual(l.opacity, Math.max(l.weight / 2, strongest.includes(l.key) ? FOCUSED_MIN_OPACITY : 0));
      assert.ok(l.opacity >= MIN_OPACITY);
    }
    const head0 = links.filter((l) => l.head === 0);
    assert.ok(head0.some((l) => l.key === 5));
    // Keys too faint to see are skipped: not every key of the row is drawn.
    assert.ok(head0.length < 16 && head0.length > 3);
  });

  it('draws incoming lines for a focused key', () => {
    const links = selectLinks({ matrices: peaked(1, 8), heads: [0], activeCount: 1, focus: { side: 'key', index: 3 }, rows: { start: 0, end: 0 } });
    assert.ok(links.length > 0 && links.every((l) => l.key === 3));
    assert.ok(links.some((l) => l.query === 3));
  });

  it('keeps the strongest keys of a diffuse focused row visible', () => {
    const n = 2048;
    const row = new Float32Array(n).fill(1 / n);
    row[7] = 3 / n;
    const links = selectLinks({ matrices: { heads: 1, rows: 1, cols: n, data: row }, heads: [0], activeCount: 8, focus: { side: 'query', index: 0 }, rows: { start: 0, end: 0 } });
    assert.strictEqual(links.length, FOCUSED_TOP_VISIBLE);
    assert.strictEqual(links[0].key, 7);
    assert.ok(links.every((l) => l.opacity === FOCUSED_MIN_OPACITY));
  });

  it('keeps only the top keys of a focused token beyond ALL_LINKS_FOCUSED_MAX keys', () => {
    const n = ALL_LINKS_FOCUSED_MAX + 1;
    const flat = { heads: 1, rows: 1, cols: n, data: new Float32Array(n).fill(1) };
    const links = selectLinks({ matrices: flat, heads: [0], activeCount: 1, focus: { side: 'query', index: 0 }, rows: { start: 0, end: 0 } });
    assert.strictEqual(links.length, TOP_K_FOCUSED);
  });

  it('without focus draws only the given rows, and top keys per query beyond ALL_LINKS_UNFOCUSED_MAX', () => {
    const small = selectLinks({ matrices: peaked(1, 8), heads: [0], activeCount: 1, focus: null, rows: { start: 2, end: 4 } });
    assert.ok(small.every((l) => l.query === 2 || l.query === 3));
    const n = ALL_LINKS_UNFOCUSED_MAX + 1;
    const uniform = { heads: 1, rows: n, cols: n, data: new Float32Array(n * n).fill(0.5) };
    const big = selectLinks({ matrices: uniform, heads: [0], activeCount: 1, focus: null, rows: { start: 10, end: 13 } });
    assert.strictEqual(big.length, 3 * TOP_K_UNFOCUSED);
  });

  it('sums focus weights per token on the other side, divided by the active heads', () => {
    const links = [
      { head: 0, query: 1, key: 0, weight: 0.6, opacity: 0.3 },
      { head: 1, query: 1, key: 0, weight: 0.2, opacity: 0.1 },
      { head: 1, query: 1, key: 2, weight: 0.8, opacity: 0.4 },
    ];
    const w = focusWeights(links, { side: 'query', index: 1 }, 3, 2);
    assert.deepStrictEqual(Array.from(w).map((x) => +x.toFixed(6)), [0.4, 0, 0.4]);
  });
});
