/**
 * Attention matrices as the views draw them: aggregated over layers and heads, folded into display
 * tokens (words, special tokens hidden), and queried for a row's strongest keys. Pure functions over
 * Float32Array [heads, rows, cols], shared by the webview and (later) the host's hovers.
 */

export interface HeadMatrices {
  readonly heads: number;
  readonly rows: number;
  readonly cols: number;
  /** [heads, rows, cols]. */
  readonly data: Float32Array;
}

export type Reduction = 'mean' | 'max';

/** Element-wise mean or max of same-shaped matrices (layers of one stack). */
export function reduceMatrices(parts: readonly HeadMatrices[], reduction: Reduction): HeadMatrices {
  if (parts.length === 0) throw new Error('reduceMatrices needs at least one matrix');
  const [first] = parts;
  if (parts.length === 1) return first;
  const out = new Float32Array(first.data.length);
  if (reduction === 'max') out.fill(-Infinity);
  for (const part of parts) {
    if (part.data.length !== out.length) throw new Error('reduceMatrices: matrices differ in shape');
    const d = part.data;
    if (reduction === 'max') for (let i = 0; i < d.length; i++) out[i] = d[i] > out[i] ? d[i] : out[i];
    else for (let i = 0; i < d.length; i++) out[i] += d[i];
  }
  if (reduction === 'mean') for (let i = 0; i < out.length; i++) out[i] /= parts.length;
  return { ...first, data: out };
}

/** One matrix [1, rows, cols]: the mean or max over the given heads. */
export function reduceHeads(m: HeadMatrices, heads: readonly number[], reduction: Reduction): HeadMatrices {
  const size = m.rows * m.cols;
  const parts = heads.map((h) => ({ heads: 1, rows: m.rows, cols: m.cols, data: m.data.subarray(h * size, (h + 1) * size) }));
  if (parts.length === 0) return { heads: 1, rows: m.rows, cols: m.cols, data: new Float32Array(size) };
  return reduceMatrices(parts, reduction);
}

/**
 * Folds model tokens into display tokens: a display key sums the weights of its tokens (attention to a
 * word is attention to any of its pieces), a display query averages its tokens' rows. When columns were
 * hidden, each row is renormalized so it stays a distribution over the keys shown.
 */
export function foldMatrix(m: HeadMatrices, rowGroups: readonly number[][], colGroups: readonly number[][]): HeadMatrices {
  const rows = rowGroups.length, cols = colGroups.length;
  const out = new Float32Array(m.heads * rows * cols);
  const colOf = new Int32Array(m.cols).fill(-1);
  colGroups.forEach((group, c) => group.forEach((j) => (colOf[j] = c)));
  const columnsHidden = colOf.some((c) => c < 0);
  for (let h = 0; h < m.heads; h++) {
    for (let r = 0; r < rows; r++) {
      const target = out.subarray((h * rows + r) * cols, (h * rows + r + 1) * cols);
      for (const i of rowGroups[r]) {
        const source = m.data.subarray((h * m.rows + i) * m.cols, (h * m.rows + i + 1) * m.cols);
        for (let j = 0; j < m.cols; j++) if (colOf[j] >= 0) target[colOf[j]] += source[j];
      }
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += target[c];
      const divisor = columnsHidden ? sum : rowGroups[r].length;
      if (divisor > 0) for (let c = 0; c < cols; c++) target[c] /= divisor;
    }
  }
  return { heads: m.heads, rows, cols, data: out };
}

/** The row of head h, query r (a view, not a copy). */
export function matrixRow(m: HeadMatrices, head: number, row: number): Float32Array {
  const start = (head * m.rows + row) * m.cols;
  return m.data.subarray(start, start + m.cols);
}

/** The column of head h, key c (a copy: columns are strided). */
export function matrixColumn(m: HeadMatrices, head: number, col: number): Float32Array {
  const out = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) out[r] = m.data[(head * m.rows + r) * m.cols + col];
  return out;
}

/** Indices of the k largest values, largest first (ties: lower index first). O(n·k), k is small. */
export function topIndices(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (best.length === k && !(v > values[best[k - 1]])) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && v > values[best[at - 1]]) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

export function maxValue(values: Float32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}
