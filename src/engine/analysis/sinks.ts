/**
 * Attention sinks: key positions that many heads pour their attention into whatever the query asks
 * (in trained decoders mostly the first token). They dominate every view, so the panel marks them and
 * can hide them, renormalising what is left (view-model/weighting.ts).
 */
import type { LayerHeadRoles } from './headRoles';

export interface Sink {
  readonly position: number;
  /** Fraction of all heads (every layer of the stack) whose mean mass on this position exceeds ε. */
  readonly headFraction: number;
  /** Mean over those layers and heads of the mass the position draws, mean_i A[i, position]. */
  readonly meanShare: number;
}

export interface SinkOptions {
  /** A head sinks into key j when mean_i A[i, j] > epsilon (Gu et al.'s ε; default 0.3). */
  readonly epsilon?: number;
  /** A position is a sink of the stack when at least this fraction of all heads sink into it (default 0.25). */
  readonly minHeadFraction?: number;
}

/**
 * The sink positions of one stack, most heads first. A head sinks into key position j when the mean
 * mass it puts there exceeds ε = 0.3, the threshold of Gu et al., "When Attention Sink Emerges in
 * Language Models: An Empirical View" (ICLR 2025), who measure it on the first token; any position is
 * considered here, so models without a BOS token get theirs named. On a handful of tokens every row is
 * short and a causal head's early positions draw much mass by construction: read sinks on longer text.
 */
export function detectSinks(layers: readonly Pick<LayerHeadRoles, 'numHeads' | 'keyLength' | 'keyShare'>[], options: SinkOptions = {}): Sink[] {
  const epsilon = options.epsilon ?? 0.3;
  const minHeadFraction = options.minHeadFraction ?? 0.25;
  if (!layers.length) return [];
  const keyLength = layers[0].keyLength;
  if (layers.some((l) => l.keyLength !== keyLength)) throw new RangeError('detectSinks needs layers over the same keys');
  const heads = layers.reduce((n, l) => n + l.numHeads, 0);
  const sinking = new Float64Array(keyLength);
  const share = new Float64Array(keyLength);
  for (const layer of layers) {
    for (let h = 0; h < layer.numHeads; h++) {
      for (let j = 0; j < keyLength; j++) {
        const mass = layer.keyShare[h * keyLength + j];
        share[j] += mass / heads;
        if (mass > epsilon) sinking[j]++;
      }
    }
  }
  const sinks: Sink[] = [];
  for (let j = 0; j < keyLength; j++) {
    if (sinking[j] / heads >= minHeadFraction) sinks.push({ position: j, headFraction: sinking[j] / heads, meanShare: share[j] });
  }
  return sinks.sort((a, b) => b.headFraction - a.headFraction || a.position - b.position);
}
