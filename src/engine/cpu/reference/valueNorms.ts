/**
 * valueNorms: ‖W_O,h · v_j‖ for every query head h and key j, the size of what key j's value vector adds
 * to head h's part of the layer's output (Kobayashi et al., "Attention is Not Only a Weight", EMNLP
 * 2020): a weight on a key whose value W_O maps to almost nothing moves nothing. W_O,h is the output
 * projection's columns of head h; with GQA, v_j is the value of h's kv head.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */

export interface ValueNormShape {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly keyLength: number;
  /** Rows of the output projection (the model's hidden size). */
  readonly outDim: number;
}

/** v [keys, kvHeads · headDim], o [outDim, heads · headDim] (torch.nn.Linear's [out, in]) → [heads, keys]. */
export function valueNorms(v: Float32Array, o: Float32Array, s: ValueNormShape): Float32Array {
  const { numHeads: H, numKvHeads: Hkv, headDim: D, keyLength: Tk, outDim } = s;
  const group = H / Hkv;
  const inDim = H * D;
  const out = new Float32Array(H * Tk);
  for (let h = 0; h < H; h++) {
    const kvHead = Math.floor(h / group);
    for (let j = 0; j < Tk; j++) {
      const value = j * Hkv * D + kvHead * D;
      let squares = 0;
      for (let n = 0; n < outDim; n++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += o[n * inDim + h * D + d] * v[value + d];
        squares += dot * dot;
      }
      out[h * Tk + j] = Math.sqrt(squares);
    }
  }
  return out;
}
