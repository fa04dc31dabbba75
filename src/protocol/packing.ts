/**
 * How a layer's probabilities are stored and sent: head by head, row by row, each row holding only the
 * keys its query may see. For a causal layer that drops the masked upper triangle (about half of a
 * square layer), whose probabilities are exactly 0; other layers are stored whole.
 */

import type { AttentionStack } from './run';

/** Whether a stack's attention is causal: a decoder's, or a decoder-only model's self-attention. */
export function isCausalStack(stack: AttentionStack, modelCausal: boolean): boolean {
  return stack === 'decoder' || (stack === 'self' && modelCausal);
}

export interface LayerShape {
  readonly numHeads: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** Query i (absolute position i + keyLength − queryLength) sees keys up to its own position. */
  readonly causal: boolean;
}

/** The keys row `row` may see: every key, or (causal) those up to its position. */
export function visibleKeys(shape: LayerShape, row: number): number {
  if (!shape.causal) return shape.keyLength;
  return Math.max(0, Math.min(shape.keyLength, row + shape.keyLength - shape.queryLength + 1));
}

/** Where each row starts within one head's packed block; the last entry is the block's length. */
function packedRowStarts(shape: LayerShape): Float64Array {
  const starts = new Float64Array(shape.queryLength + 1);
  for (let row = 0; row < shape.queryLength; row++) starts[row + 1] = starts[row] + visibleKeys(shape, row);
  return starts;
}

/** Elements of the whole packed layer. */
export function packedSize(shape: LayerShape): number {
  return shape.numHeads * packedRowStarts(shape)[shape.queryLength];
}

type Values = Float32Array | Uint16Array;

/** [heads, queries, keys] → packed rows (an array of the same kind). */
export function packLayer<T extends Values>(full: T, shape: LayerShape): T {
  const { numHeads, queryLength, keyLength } = shape;
  if (full.length !== numHeads * queryLength * keyLength) throw new Error(`packLayer: ${full.length} values for [${numHeads}, ${queryLength}, ${keyLength}]`);
  if (!shape.causal) return full;
  const starts = packedRowStarts(shape);
  const perHead = starts[queryLength];
  const out = new (full.constructor as new (n: number) => T)(numHeads * perHead);
  for (let h = 0; h < numHeads; h++) {
    for (let row = 0; row < queryLength; row++) {
      const from = (h * queryLength + row) * keyLength;
      out.set(full.subarray(from, from + starts[row + 1] - starts[row]), h * perHead + starts[row]);
    }
  }
  return out;
}

/** Packed rows → [heads, queries, keys], zeros where a query does not see a key. */
export function unpackLayer(packed: Float32Array, shape: LayerShape): Float32Array {
  const { numHeads, queryLength, keyLength } = shape;
  if (!shape.causal) return packed;
  const starts = packedRowStarts(shape);
  const perHead = starts[queryLength];
  if (packed.length !== numHeads * perHead) throw new Error(`unpackLayer: ${packed.length} values for ${numHeads} heads of ${perHead}`);
  const out = new Float32Array(numHeads * queryLength * keyLength);
  for (let h = 0; h < numHeads; h++) {
    for (let row = 0; row < queryLength; row++) {
      const from = h * perHead + starts[row];
      out.set(packed.subarray(from, from + starts[row + 1] - starts[row]), (h * queryLength + row) * keyLength);
    }
  }
  return out;
}
