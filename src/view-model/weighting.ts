/**
 * What the panel's two weighting toggles do to a layer's attention before any view, hover, overlay or
 * analysis reads it. Both multiply each key's column by a factor and rescale each row back to its
 * former sum, so they combine in either order:
 * - value-weighted (Kobayashi et al., "Attention is Not Only a Weight", EMNLP 2020): A[h, i, j] ·
 *   ‖W_O,h · v_j‖, so a head whose mass sits on a key with a near-zero value shows as quiet;
 * - hide sinks: the stack's detected sink positions get 0 (a row whose mass was all there becomes
 *   zeros: nothing is left to show, and NaN would poison every view that sums it).
 */
import type { WeightOptions } from '../protocol/data';
import type { Layer } from './generation';

export const RAW_WEIGHTS: WeightOptions = { valueWeighted: false, hideSinks: false };

/** A short name of the weighting for captions ("value-weighted, sinks hidden"), or '' for the attention itself. */
export function weightingLabel(options: WeightOptions): string {
  return [options.valueWeighted ? 'value-weighted' : '', options.hideSinks ? 'sinks hidden' : ''].filter(Boolean).join(', ');
}

/**
 * Rows of keyLength values (one row, a head's matrix or a whole [heads, T_q, T_k] layer), each column j
 * multiplied by factor(head, j) and the row rescaled to its former sum. A new array; zero rows stay zero.
 */
export function reweightRows(values: Float32Array, keyLength: number, rowsPerHead: number, factor: (head: number, key: number) => number): Float32Array {
  if (values.length % keyLength !== 0) throw new RangeError(`${values.length} values are not whole rows of ${keyLength}`);
  const out = new Float32Array(values.length);
  const factors = new Float64Array(keyLength);
  let head = -1;
  for (let at = 0, row = 0; at < values.length; at += keyLength, row++) {
    if (Math.floor(row / rowsPerHead) !== head) {
      head = Math.floor(row / rowsPerHead);
      for (let j = 0; j < keyLength; j++) factors[j] = factor(head, j);
    }
    let total = 0, kept = 0;
    for (let j = 0; j < keyLength; j++) {
      total += values[at + j];
      kept += values[at + j] * factors[j];
    }
    const scale = kept > 0 ? total / kept : 0;
    for (let j = 0; j < keyLength; j++) out[at + j] = values[at + j] * factors[j] * scale;
  }
  return out;
}

/** Sink columns 0, every row rescaled to its former sum (rows of keyLength values). */
export function hideSinkRenormalised(values: Float32Array, keyLength: number, sinks: readonly number[]): Float32Array {
  const hidden = new Set(sinks);
  return reweightRows(values, keyLength, values.length / keyLength, (_h, j) => (hidden.has(j) ? 0 : 1));
}

/**
 * A layer as the toggles show it. `sinks`: the stack's sink positions (needed when hiding them).
 * Undefined when value weighting is asked for and the layer carries no value norms.
 */
export function weightedLayer(layer: Layer, options: WeightOptions, sinks: readonly number[] = []): Layer | undefined {
  const hide = options.hideSinks && sinks.length > 0;
  if (!options.valueWeighted && !hide) return layer;
  const norms = layer.valueNorms;
  if (options.valueWeighted && !norms) return undefined;
  const hidden = new Set(hide ? sinks : []);
  const probs = reweightRows(layer.probs, layer.keyLength, layer.queryLength, (h, j) =>
    (hidden.has(j) ? 0 : options.valueWeighted ? norms![h * layer.keyLength + j] : 1));
  return { ...layer, probs };
}
