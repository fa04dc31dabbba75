/**
 * Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020): how much
 * of each input token reaches each position at the top, following attention and the residual stream
 * through every layer. A layer's mixing is Â_l = ½·mean_h A_l + ½·I (the identity stands for the
 * residual connection), rows renormalised; the rollout is R = Â_L ⋯ Â_1, and R[i, j] is the share of
 * position i's top-layer state that came from input token j. Rows of R sum to 1.
 */
import { float16Table } from '../../protocol/float16';
import { Float64Product } from '../cpu/wasm/float64Product';
import { visibleKeys } from './headRoleSpec';
import { AttentionProbabilities, StackLayout, checkShape } from './probabilities';

/** Row-major float64 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * Σ_h A over the heads, each row divided by its sum after `diagonal` is added to its diagonal entry:
 * with diagonal = H that is ½·mean_h A + ½·I renormalised, with 0 the head mean renormalised. Rows are
 * summed one at a time so that the row stays in cache; keys at or past end(i) are masked (zero) and
 * not read.
 */
function normalisedHeadSum(layer: AttentionProbabilities, end: (row: number) => number, diagonal: number): Matrix {
  checkShape(layer);
  const { numHeads, queryLength, keyLength, probs, probsF16 } = layer;
  const sum = new Float64Array(queryLength * keyLength);
  const values = float16Table();
  for (let i = 0; i < queryLength; i++) {
    const out = i * keyLength;
    const rowEnd = end(i);
    for (let h = 0; h < numHeads; h++) {
      const at = (h * queryLength + i) * keyLength;
      if (probsF16) for (let j = 0; j < rowEnd; j++) sum[out + j] += values[probsF16[at + j]];
      else for (let j = 0; j < rowEnd; j++) sum[out + j] += probs[at + j];
    }
    if (diagonal) sum[out + i] += diagonal;
    let total = 0;
    for (let j = 0; j < rowEnd; j++) total += sum[out + j];
    if (total > 0) for (let j = 0; j < rowEnd; j++) sum[out + j] /= total;
  }
  return { rows: queryLength, cols: keyLength, data: sum };
}

/** Â = ½·mean_h A + ½·I, rows renormalised: one self-attention layer with its residual (T_q = T_k). */
export function residualMix(layer: AttentionProbabilities, layout: StackLayout): Matrix {
  const { queryLength: size, keyLength } = layer;
  if (layout.relation !== 'self' || size !== keyLength) throw new RangeError(`rollout needs a full self-attention run, not ${size} ${layout.relation} queries over ${keyLength} keys`);
  return normalisedHeadSum(layer, (i) => visibleKeys(layout, i, size), layer.numHeads);
}

/** C̄ = mean_h A of a cross-attention layer [T_dec, T_enc], rows renormalised. */
export function crossMix(layer: AttentionProbabilities): Matrix {
  return normalisedHeadSum(layer, () => layer.keyLength, 0);
}

/** Per block of 4 rows, one past the last non-zero column of any of them (0 for all-zero rows). */
function blockEnds(data: Float64Array, rows: number, cols: number): Int32Array {
  const ends = new Int32Array(rows / 4);
  for (let i = 0; i < rows; i++) {
    let end = cols;
    while (end > 0 && data[i * cols + end - 1] === 0) end--;
    ends[i >> 2] = Math.max(ends[i >> 2], end);
  }
  return ends;
}

/** Per block of 4 columns, the first row where any of them is non-zero (`rows` for all-zero columns). */
function blockStarts(data: Float64Array, rows: number, cols: number): Int32Array {
  const starts = new Int32Array(cols / 4).fill(rows);
  for (let k = rows - 1; k >= 0; k--) for (let j = 0; j < cols; j++) if (data[k * cols + j] !== 0) starts[j >> 2] = k;
  return starts;
}

/** The matrix with zero rows and columns added up to the given size (the same data when it fits already). */
function padded(m: Matrix, rows: number, cols: number): Float64Array {
  if (rows === m.rows && cols === m.cols) return m.data;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), i * cols);
  return out;
}

const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * The product's JavaScript kernel, and the readable twin of the WebAssembly one (cpu/wasm/float64Product.ts):
 * 4×4 output elements at a time held in locals. Each output element sums its k terms in ascending
 * order exactly as the textbook triple loop does, leaving out only terms known to be zero (past a
 * row's last non-zero of a, before a column's first non-zero of b): a product of two causal matrices
 * touches a sixth of what a dense one does.
 */
function productInJavaScript(A: Float64Array, B: Float64Array, shape: { rows: number; inner: number; cols: number }, aEnd: Int32Array, bStart: Int32Array): Float64Array {
  const { rows, inner, cols } = shape;
  const C = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i += 4) {
    const kEnd = aEnd[i >> 2];
    const a0 = i * inner, a1 = a0 + inner, a2 = a1 + inner, a3 = a2 + inner;
    for (let j = 0; j < cols; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = bStart[j >> 2]; k < kEnd; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const at = k * cols + j;
        const y0 = B[at], y1 = B[at + 1], y2 = B[at + 2], y3 = B[at + 3];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const o = i * cols + j;
      C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03;
      C[o + cols] = c10; C[o + cols + 1] = c11; C[o + cols + 2] = c12; C[o + cols + 3] = c13;
      C[o + 2 * cols] = c20; C[o + 2 * cols + 1] = c21; C[o + 2 * cols + 2] = c22; C[o + 2 * cols + 3] = c23;
      C[o + 3 * cols] = c30; C[o + 3 * cols + 1] = c31; C[o + 3 * cols + 2] = c32; C[o + 3 * cols + 3] = c33;
    }
  }
  return C;
}

/**
 * a·b, bit for bit the textbook triple loop's. `kernel`: the WebAssembly SIMD product (about twice as
 * fast; one per chain of products) or, where there is none, the JavaScript one.
 */
export function multiply(a: Matrix, b: Matrix, kernel: Float64Product | 'javascript' | undefined = Float64Product.create()): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`cannot multiply [${a.rows}, ${a.cols}] by [${b.rows}, ${b.cols}]`);
  const shape = { rows: roundUp4(a.rows), inner: a.cols, cols: roundUp4(b.cols) };
  const A = padded(a, shape.rows, shape.inner), B = padded(b, shape.inner, shape.cols);
  const aEnd = blockEnds(A, shape.rows, shape.inner), bStart = blockStarts(B, shape.inner, shape.cols);
  const C = kernel && kernel !== 'javascript' ? kernel.multiply(A, B, shape, aEnd, bStart) : productInJavaScript(A, B, shape, aEnd, bStart);
  return cropped(C, shape.rows, shape.cols, a.rows, b.cols);
}

function cropped(data: Float64Array, rows: number, cols: number, keepRows: number, keepCols: number): Matrix {
  if (cols === keepCols) return { rows: keepRows, cols: keepCols, data: rows === keepRows ? data : data.subarray(0, keepRows * keepCols) };
  const out = new Float64Array(keepRows * keepCols);
  for (let i = 0; i < keepRows; i++) out.set(data.subarray(i * cols, i * cols + keepCols), i * keepCols);
  return { rows: keepRows, cols: keepCols, data: out };
}

/** R = Â_L ⋯ Â_1 from each layer's residualMix, first layer first. */
export function attentionRollout(mixes: readonly Matrix[]): Matrix {
  if (!mixes.length) throw new RangeError('rollout needs at least one layer');
  const kernel = Float64Product.create();
  return mixes.slice(1).reduce((rollout, mix) => multiply(mix, rollout, kernel), mixes[0]);
}

export interface EncoderDecoderRollout {
  /** [T_enc, T_enc]: the encoder's own rollout. */
  readonly encoder: Matrix;
  /** [T_dec, T_dec]: the share of decoder position i's top state that came from decoder input token j. */
  readonly decoder: Matrix;
  /** [T_dec, T_enc]: the share that came from source token k. Each row of decoder and cross together sums to 1. */
  readonly cross: Matrix;
}

/**
 * Rollout through an encoder-decoder. Abnar & Zuidema treat one stack; the extension here follows the
 * same rule at every step. Each decoder layer m is self-attention then cross-attention, each with a
 * residual, and a decoder position's state is tracked over both kinds of input token: D [T_dec, T_dec]
 * over decoder input tokens, X [T_dec, T_enc] over source tokens. From D = I, X = 0, per layer:
 *   self-attention:   D ← Â_m·D,   X ← Â_m·X
 *   cross-attention:  D ← ½·D,     X ← ½·X + ½·C̄_m·R_enc
 * where C̄_m is the cross-attention's head mean (crossMix) and R_enc the encoder rollout, because
 * cross-attention reads the encoder's top layer. The ½ weights the residual against the attention
 * exactly as ½·I does in Â.
 */
export function encoderDecoderRollout(encoderMixes: readonly Matrix[], decoderMixes: readonly Matrix[], crossMixes: readonly Matrix[]): EncoderDecoderRollout {
  if (decoderMixes.length !== crossMixes.length) throw new RangeError(`${decoderMixes.length} decoder layers but ${crossMixes.length} cross-attention layers`);
  const encoder = attentionRollout(encoderMixes);
  const size = decoderMixes[0]?.rows ?? 0;
  let decoder: Matrix = { rows: size, cols: size, data: new Float64Array(size * size) };
  for (let i = 0; i < size; i++) decoder.data[i * size + i] = 1;
  let cross: Matrix = { rows: size, cols: encoder.cols, data: new Float64Array(size * encoder.cols) };
  const kernel = Float64Product.create();
  decoderMixes.forEach((mix, m) => {
    decoder = multiply(mix, decoder, kernel);
    cross = multiply(mix, cross, kernel);
    const fromSource = multiply(crossMixes[m], encoder, kernel);
    for (let e = 0; e < decoder.data.length; e++) decoder.data[e] /= 2;
    for (let e = 0; e < cross.data.length; e++) cross.data[e] = (cross.data[e] + fromSource.data[e]) / 2;
  });
  return { encoder, decoder, cross };
}
