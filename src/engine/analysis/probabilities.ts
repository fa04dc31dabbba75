/**
 * What the analysis reads: one layer's attention probabilities as the engine streams them, and how its
 * query rows relate to its key columns. Nothing here copies a whole layer: float16 layers are decoded
 * one element (or, for the readable spec, one head) at a time.
 */
import type { AttentionStack, ModelInfo } from '../../protocol/run';
import { float16Table } from '../../protocol/float16';

/** The part of an AttentionEvent the analysis needs; an AttentionEvent is one. */
export interface AttentionProbabilities {
  readonly numHeads: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** [numHeads, queryLength, keyLength], row-major; empty when probsF16 holds the values. */
  readonly probs: Float32Array;
  /** The same as IEEE float16 bits (the panel's compact form). */
  readonly probsF16?: Uint16Array;
}

/**
 * How the rows of a stack's attention relate to its columns.
 * - `self`: queries and keys are one sequence, and the queryLength queries are its last positions, so
 *   query row i sits at position (keyLength − queryLength) + i. That covers a full run (T_q = T_k) and a
 *   cached generation step (T_q < T_k).
 * - `cross`: queries (decoder positions) and keys (encoder positions) are different sequences, so a
 *   query has no position among the keys.
 */
export interface StackLayout {
  readonly relation: 'self' | 'cross';
  /** Self-attention with a causal mask: query position p sees keys 0…p; the masked entries are 0. */
  readonly causal: boolean;
  /** The token id at every key position (self only), for the duplicate-token score. */
  readonly keyIds?: readonly number[];
}

/** The layout of each kind of attention a run streams; `targetIds` are the decoder's input ids. */
export function stackLayout(kind: AttentionStack, info: ModelInfo, sourceIds: readonly number[], targetIds?: readonly number[]): StackLayout {
  switch (kind) {
    case 'self':
      return { relation: 'self', causal: info.causal, keyIds: sourceIds };
    case 'encoder':
      return { relation: 'self', causal: false, keyIds: sourceIds };
    case 'decoder':
      return { relation: 'self', causal: true, keyIds: targetIds };
    case 'cross':
      return { relation: 'cross', causal: false };
  }
}

/** Position of query row `row` among the keys (self layouts). */
export function queryPosition(shape: { readonly queryLength: number; readonly keyLength: number }, row: number): number {
  return shape.keyLength - shape.queryLength + row;
}

/** The probability at a flat index of [numHeads, queryLength, keyLength]. */
export function probabilityAt(layer: AttentionProbabilities, index: number): number {
  return layer.probsF16 ? float16Table()[layer.probsF16[index]] : layer.probs[index];
}

/** One head as a float32 [queryLength, keyLength] matrix: a view for float32 layers, a decoded copy for float16. */
export function headMatrix(layer: AttentionProbabilities, head: number): Float32Array {
  const size = layer.queryLength * layer.keyLength;
  if (!layer.probsF16) return layer.probs.subarray(head * size, (head + 1) * size);
  const table = float16Table();
  const bits = layer.probsF16.subarray(head * size, (head + 1) * size);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = table[bits[i]];
  return out;
}

let plogpLookup: Float64Array | undefined;
/** −p·ln p for every float16 bit pattern p ≥ 0 (0 for p = 0): entropy without a logarithm per element. */
export function negativePLogPTable(): Float64Array {
  if (!plogpLookup) {
    const values = float16Table();
    plogpLookup = new Float64Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      const p = values[bits];
      plogpLookup[bits] = p > 0 ? -p * Math.log(p) : 0;
    }
  }
  return plogpLookup;
}

/** Checks that the typed array holds [numHeads, queryLength, keyLength] values. */
export function checkShape(layer: AttentionProbabilities): void {
  const expected = layer.numHeads * layer.queryLength * layer.keyLength;
  const actual = layer.probsF16 ? layer.probsF16.length : layer.probs.length;
  if (actual !== expected) {
    throw new RangeError(`attention of shape [${layer.numHeads}, ${layer.queryLength}, ${layer.keyLength}] needs ${expected} values, got ${actual}`);
  }
}
