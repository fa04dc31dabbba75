/** Inputs and independent checks for the analysis tests: peaked random attention and naive products. */
import * as assert from 'assert';
import type { AttentionProbabilities } from '../../src/engine/analysis/probabilities';
import type { Matrix } from '../../src/engine/analysis/rollout';
import { toFloat16Bits } from '../../src/engine/cpu/reference';
import { seededUniform } from '../../src/engine/demo/demoWeights';

export interface AttentionShape {
  readonly heads: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** Query row i sits at key position keyLength − queryLength + i and sees keys up to it. */
  readonly causal: boolean;
}

/**
 * Softmax rows of scores drawn uniformly from ±spread/2: with a spread of 20 most of a row's mass sits
 * on a few keys, as in a trained model, and float16 underflows many entries to exactly 0.
 */
export function peakedAttention(shape: AttentionShape, seed: number, spread = 20): Float32Array {
  const { heads, queryLength, keyLength, causal } = shape;
  const uniform = seededUniform(seed);
  const probs = new Float32Array(heads * queryLength * keyLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < queryLength; i++) {
      const row = (h * queryLength + i) * keyLength;
      const visible = causal ? keyLength - queryLength + i + 1 : keyLength;
      const scores = Array.from({ length: visible }, () => (uniform() - 0.5) * spread);
      const top = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - top));
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w, j) => (probs[row + j] = w / total));
    }
  }
  return probs;
}

export function layerOf(shape: AttentionShape, probs: Float32Array, format: 'f32' | 'f16'): AttentionProbabilities {
  const base = { numHeads: shape.heads, queryLength: shape.queryLength, keyLength: shape.keyLength };
  return format === 'f32' ? { ...base, probs } : { ...base, probs: new Float32Array(0), probsF16: toFloat16Bits(probs) };
}

/** A layer from nested rows [head][query][key], float32. */
export function layerFromRows(heads: readonly (readonly (readonly number[])[])[]): AttentionProbabilities {
  const queryLength = heads[0].length, keyLength = heads[0][0].length;
  return { numHeads: heads.length, queryLength, keyLength, probs: Float32Array.from(heads.flat(2)) };
}

export function matrixOf(rows: readonly (readonly number[])[]): Matrix {
  return { rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) };
}

/** A layer's value at a flat index; float16 bits decoded here, independently of the engine's table. */
export function naiveValue(layer: AttentionProbabilities, index: number): number {
  if (!layer.probsF16) return layer.probs[index];
  const bits = layer.probsF16[index];
  const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  return exponent === 0 ? fraction * 2 ** -24 : (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The textbook triple loop. */
export function naiveMultiply(a: Matrix, b: Matrix): Matrix {
  const data = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let sum = 0;
      for (let k = 0; k < a.cols; k++) sum += a.data[i * a.cols + k] * b.data[k * b.cols + j];
      data[i * b.cols + j] = sum;
    }
  }
  return { rows: a.rows, cols: b.cols, data };
}

/** Equal within atol + rtol·|expected|, NaN only where NaN is expected; the first mismatch is named. */
export function assertNumbersClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, atol = 1e-12, rtol = 1e-9): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${what}[${i}]: got ${a}, expected ${e}`);
    } else if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|Δ| ${Math.abs(a - e).toExponential(2)})`);
    }
  }
}

/** Â of one layer as rollout.ts defines it (½·mean_h A + ½·I, or the head mean for cross-attention), rows renormalised. */
export function naiveMix(layer: AttentionProbabilities, residual: boolean): Matrix {
  const rows = Array.from({ length: layer.queryLength }, (_, i) => Array.from({ length: layer.keyLength }, (_, j) => {
    let sum = 0;
    for (let h = 0; h < layer.numHeads; h++) sum += naiveValue(layer, (h * layer.queryLength + i) * layer.keyLength + j);
    return sum / layer.numHeads + (residual && i === j ? 1 : 0);
  }));
  return matrixOf(rows.map((row) => row.map((x) => x / row.reduce((a, b) => a + b, 0))));
}

/** Â_L ⋯ Â_1. */
export const naiveRollout = (mixes: readonly Matrix[]) => mixes.slice(1).reduce((r, m) => naiveMultiply(m, r), mixes[0]);

/** The encoder-decoder rule of rollout.ts, step by step: D ← ½·Â·D, X ← ½·Â·X + ½·C̄·R_enc per decoder layer. */
export function naiveEncoderDecoderRollout(encoderMixes: readonly Matrix[], decoderMixes: readonly Matrix[], crossMixes: readonly Matrix[]) {
  const half = (m: Matrix): Matrix => ({ ...m, data: m.data.map((x) => x / 2) });
  const plus = (a: Matrix, b: Matrix): Matrix => ({ ...a, data: a.data.map((x, e) => x + b.data[e]) });
  const encoder = naiveRollout(encoderMixes);
  const T = decoderMixes[0].rows;
  let decoder = matrixOf(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (i === j ? 1 : 0))));
  let cross = matrixOf(Array.from({ length: T }, () => new Array(encoder.cols).fill(0)));
  decoderMixes.forEach((mix, m) => {
    decoder = half(naiveMultiply(mix, decoder));
    cross = plus(half(naiveMultiply(mix, cross)), half(naiveMultiply(crossMixes[m], encoder)));
  });
  return { encoder, decoder, cross };
}
