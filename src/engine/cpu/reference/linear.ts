/**
 * linear: out[m, n] = Σ_k x[m, k] · w[n, k] + bias[n], then the activation, then + residual[m, n].
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
import type { PointwiseActivation } from '../../backend';
import { activate } from './activation';

/** out[m, n] = Σ_k x[m, k] · w[n, k] + bias[n]; then activation; then + residual[m, n]. */
export function linear(
  x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number,
  bias?: Float32Array, activation: PointwiseActivation = 'none', residual?: Float32Array,
): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let m = 0; m < rows; m++) {
    for (let n = 0; n < outDim; n++) {
      let sum = 0;
      for (let k = 0; k < inDim; k++) sum += x[m * inDim + k] * w[n * inDim + k];
      let value = activate(sum + (bias ? bias[n] : 0), activation);
      if (residual) value += residual[m * outDim + n];
      out[m * outDim + n] = value;
    }
  }
  return out;
}
