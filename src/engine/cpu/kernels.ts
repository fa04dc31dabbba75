/**
 * The reference kernels: plain loops over Float32Array that define what every backend must compute.
 * They favour clarity over speed; the WebGPU kernels and any faster CPU kernels are tested against them.
 * Sums are accumulated in float64 (JS numbers), which is at least as accurate as float32 BLAS.
 */
import type { PointwiseActivation, RopeSpec } from '../backend';

/** out[m, n] = Σ_k x[m, k] · w[n, k] + bias[n]; then activation; then + residual[m, n]. */
export function linear(
  x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number,
  bias?: Float32Array, activation: PointwiseActivation = 'none', residual?: Float32Array,
): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let m = 0; m < rows; m++) {
    const xRow = m * inDim;
    for (let n = 0; n < outDim; n++) {
      const wRow = n * inDim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < inDim; k += 4) {
        s0 += x[xRow + k] * w[wRow + k];
        s1 += x[xRow + k + 1] * w[wRow + k + 1];
        s2 += x[xRow + k + 2] * w[wRow + k + 2];
        s3 += x[xRow + k + 3] * w[wRow + k + 3];
      }
      for (; k < inDim; k++) s0 += x[xRow + k] * w[wRow + k];
      let v = s0 + s1 + s2 + s3 + (bias ? bias[n] : 0);
      if (activation !== 'none') v = activate(v, activation);
      if (residual) v += residual[m * outDim + n];
      out[m * outDim + n] = v;
    }
  }
  return out;
}

export function activate(x: number, activation: PointwiseActivation): number {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu_erf':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  }
}

/**
 * erf with absolute error below 1.2e-7 everywhere (Chebyshev fit of erfc, Numerical Recipes §6.2).
 * JavaScript has no Math.erf; the WGSL kernel uses the same formula so both backends agree.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

export function scale(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * factor;
  return out;
}

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

export function gated(gate: Float32Array, up: Float32Array, activation: PointwiseActivation): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = activate(gate[i], activation) * up[i];
  return out;
}

export function gather(table: Float32Array, dim: number, ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) out.set(table.subarray(ids[t] * dim, (ids[t] + 1) * dim), t * dim);
  return out;
}

/** Copies columns [start, start + width) of x [rows, cols], rotating each head by RoPE when asked. */
export function splitColumns(x: Float32Array, rows: number, cols: number, start: number, width: number, rope?: RopeSpec): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols + start, r * cols + start + width), r * width);
  if (rope) applyRope(out, rows, width, rope);
  return out;
}

/** HF rotate_half: out = x · cos + rotate_half(x) · sin, angles rounded to float32 as transformers does. */
export function applyRope(x: Float32Array, rows: number, width: number, rope: RopeSpec): void {
  const half = rope.headDim / 2;
  for (let r = 0; r < rows; r++) {
    const position = rope.positionOffset + r;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(position * rope.invFreq[i]);
      const cos = Math.fround(Math.cos(angle));
      const sin = Math.fround(Math.sin(angle));
      for (let h = 0; h < width; h += rope.headDim) {
        const a = r * width + h + i;
        const x1 = x[a];
        const x2 = x[a + half];
        x[a] = x1 * cos - x2 * sin;
        x[a + half] = x2 * cos + x1 * sin;
      }
    }
  }
}

export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  queryLength: number;
  keyLength: number;
  scale: number;
  causal: boolean;
}

/**
 * softmax(q·kᵀ · scale + bias + mask) per head, then P·V.
 * Returns probs and scores [H, Tq, Tk] and context [Tq, H·D].
 */
export function attention(
  q: Float32Array, k: Float32Array, v: Float32Array, s: AttentionShape, positionBias?: Float32Array,
): { probs: Float32Array; scores: Float32Array; context: Float32Array } {
  const { numHeads: H, numKvHeads: Hkv, headDim: D, queryLength: Tq, keyLength: Tk } = s;
  const group = H / Hkv;
  const qStride = H * D;
  const kvStride = Hkv * D;
  const scores = new Float32Array(H * Tq * Tk);
  const probs = new Float32Array(H * Tq * Tk);
  const context = new Float32Array(Tq * qStride);
  for (let h = 0; h < H; h++) {
    const kvHead = Math.floor(h / group);
    for (let i = 0; i < Tq; i++) {
      const row = (h * Tq + i) * Tk;
      const lastVisible = s.causal ? i + Tk - Tq : Tk - 1;
      let max = -Infinity;
      for (let j = 0; j < Tk; j++) {
        if (j > lastVisible) {
          scores[row + j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[i * qStride + h * D + d] * k[j * kvStride + kvHead * D + d];
        const score = Math.fround(dot * s.scale) + (positionBias ? positionBias[row + j] : 0);
        scores[row + j] = score;
        if (score > max) max = score;
      }
      if (max === -Infinity) continue; // every key masked: the row stays all zeros
      let sum = 0;
      for (let j = 0; j <= lastVisible; j++) {
        const e = Math.exp(scores[row + j] - max);
        probs[row + j] = e;
        sum += e;
      }
      for (let j = 0; j <= lastVisible; j++) probs[row + j] /= sum;
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j <= lastVisible; j++) acc += probs[row + j] * v[j * kvStride + kvHead * D + d];
        context[i * qStride + h * D + d] = acc;
      }
    }
  }
  return { probs, scores, context };
}

/** IEEE 754 half-precision bits of each value, rounded to nearest even (compact probabilities). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      out[i] = sign | 0x7c00; // too large: Infinity
    } else if (halfExponent <= 0) {
      // Subnormal or zero: shift the mantissa (with its implicit 1) into place, rounding to even.
      const shift = 14 - halfExponent;
      if (shift > 24) {
        out[i] = sign;
        continue;
      }
      const full = mantissa | 0x800000;
      const half = full >>> shift;
      const rest = full & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      out[i] = sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
    } else {
      const half = (halfExponent << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      out[i] = sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
    }
  }
  return out;
}
