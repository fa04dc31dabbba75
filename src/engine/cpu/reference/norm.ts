/**
 * Per-row norms: LayerNorm (mean and variance) and RMSNorm (root mean square), each times a weight.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
export function layerNorm(x: Float32Array, weight: Float32Array, bias: Float32Array, dim: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    const o = r * dim;
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[o + i];
    mean /= dim;
    let variance = 0;
    for (let i = 0; i < dim; i++) variance += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / dim + eps);
    for (let i = 0; i < dim; i++) out[o + i] = (x[o + i] - mean) * inv * weight[i] + bias[i];
  }
  return out;
}

/** RMSNorm over each group of `dim` consecutive values (a row, or one head of a row). */
export function rmsNorm(x: Float32Array, weight: Float32Array, dim: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    const o = r * dim;
    let sumSquares = 0;
    for (let i = 0; i < dim; i++) sumSquares += x[o + i] * x[o + i];
    // transformers rounds the normalized value to float32 before the weight multiplies it.
    const inv = 1 / Math.sqrt(sumSquares / dim + eps);
    for (let i = 0; i < dim; i++) out[o + i] = Math.fround(x[o + i] * inv) * weight[i];
  }
  return out;
}
