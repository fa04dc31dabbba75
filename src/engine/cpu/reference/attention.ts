/**
 * attention: softmax(mask(softCap(q·kᵀ · scale) + bias)) per head, then P·V, with GQA, the causal mask
 * and a sliding window.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
import { softCapValue } from './elementwise';

export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  queryLength: number;
  keyLength: number;
  scale: number;
  causal: boolean;
  /** cap · tanh(s / cap) on each scaled score, before the bias and the mask. */
  softCap?: number;
  /** Query at absolute position p also loses keys k ≤ p − window. */
  slidingWindow?: number;
}

/** Keys [first, last] that the query in row i sees (absolute position i + Tk − Tq); empty when first > last. */
export function visibleKeys(s: AttentionShape, i: number): { first: number; last: number } {
  const position = i + s.keyLength - s.queryLength;
  const last = s.causal ? Math.min(position, s.keyLength - 1) : s.keyLength - 1;
  const first = s.slidingWindow ? Math.max(0, position - s.slidingWindow + 1) : 0;
  return { first, last };
}

/**
 * softmax(mask(softCap(q·kᵀ · scale) + bias)) per head, then P·V.
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
      const { first, last } = visibleKeys(s, i);
      let max = -Infinity;
      for (let j = 0; j < Tk; j++) {
        if (j < first || j > last) {
          scores[row + j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[i * qStride + h * D + d] * k[j * kvStride + kvHead * D + d];
        let score = Math.fround(dot * s.scale);
        if (s.softCap) score = Math.fround(softCapValue(score, s.softCap));
        score += positionBias ? positionBias[row + j] : 0;
        scores[row + j] = score;
        if (score > max) max = score;
      }
      if (max === -Infinity) continue; // every key masked: the row stays all zeros
      let sum = 0;
      for (let j = first; j <= last; j++) {
        const e = Math.exp(scores[row + j] - max);
        probs[row + j] = e;
        sum += e;
      }
      for (let j = first; j <= last; j++) probs[row + j] /= sum;
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = first; j <= last; j++) acc += probs[row + j] * v[j * kvStride + kvHead * D + d];
        context[i * qStride + h * D + d] = acc;
      }
    }
  }
  return { probs, scores, context };
}
