/**
 * The tutorial's walk-through with the model's real numbers, for one head and one query token:
 * softmax(q·kᵀ · scale + bias + M) · V, one row per key. The scale is read from the data (scores ÷ q·k),
 * because models differ (1/√dₖ for most, 1 for T5); whatever the scores hold beyond scale · q·k and the
 * mask (T5's relative position bias) is shown as its own column.
 */
import type { Computation, KeyStep } from '../protocol/data';
import type { Layer } from './generation';

/** A layer with what the table needs besides the weights: the scores and each head's vectors. */
export interface StepLayer extends Layer {
  /** Pre-softmax scores (masked with −Infinity), [numHeads, queryLength, keyLength]. */
  readonly scores: Float32Array;
  /** [queryLength, numHeads · headDim], head-major. */
  readonly q: Float32Array;
  /** [keyLength, numKvHeads · headDim]; query head h reads kv head floor(h / (numHeads / numKvHeads)). */
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** [queryLength, numHeads · headDim]: each head's P·V, the concatenation W_O multiplies. */
  readonly headOutputs: Float32Array;
}

export function kvHeadOf(head: number, numHeads: number, numKvHeads: number): number {
  return Math.floor(head / (numHeads / numKvHeads));
}

/** Row `row` of head `head` in a [rows, heads · dim] head-major packing. */
export function headVector(packed: Float32Array, row: number, head: number, heads: number, dim: number): Float32Array {
  const start = row * heads * dim + head * dim;
  return packed.subarray(start, start + dim);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/**
 * The scale s with score ≈ s · dot: exact least squares when the scores hold nothing else (snapped to
 * 1/√dₖ or 1 when within rounding), else whichever of 1/√dₖ and 1 leaves the smaller bias.
 */
export function deriveScale(dots: readonly number[], scores: readonly number[], headDim: number): { scale: number; exact: boolean } {
  const standard = [1 / Math.sqrt(headDim), 1];
  let num = 0, den = 0;
  for (let j = 0; j < dots.length; j++) {
    num += dots[j] * scores[j];
    den += dots[j] * dots[j];
  }
  if (den === 0) return { scale: standard[0], exact: false };
  const fitted = num / den;
  const fits = (s: number) => dots.every((d, j) => Math.abs(scores[j] - s * d) <= 1e-4 * (1 + Math.abs(scores[j])));
  const snapped = standard.find((s) => Math.abs(fitted - s) <= 1e-3 * s);
  if (snapped !== undefined && fits(snapped)) return { scale: snapped, exact: true };
  if (fits(fitted)) return { scale: fitted, exact: true };
  const residual = (s: number) => dots.reduce((sum, d, j) => sum + (scores[j] - s * d) ** 2, 0);
  return { scale: residual(standard[0]) <= residual(standard[1]) ? standard[0] : standard[1], exact: false };
}

export function scaleLabel(scale: number, headDim: number): string {
  if (Math.abs(scale - 1 / Math.sqrt(headDim)) < 1e-9) return `1/√${headDim}`;
  if (scale === 1) return '1';
  return scale.toPrecision(4);
}

export function computeSteps(layer: StepLayer, head: number, query: number): Computation {
  const { numHeads, numKvHeads, headDim, keyLength, queryLength } = layer;
  const kvHead = kvHeadOf(head, numHeads, numKvHeads);
  const queryVector = headVector(layer.q, query, head, numHeads, headDim);
  const scores = layer.scores.subarray((head * queryLength + query) * keyLength, (head * queryLength + query + 1) * keyLength);
  const probs = layer.probs.subarray((head * queryLength + query) * keyLength, (head * queryLength + query + 1) * keyLength);
  const dots = Array.from({ length: keyLength }, (_, j) => dot(queryVector, headVector(layer.k, j, kvHead, numKvHeads, headDim)));
  const open = dots.map((_, j) => j).filter((j) => scores[j] !== -Infinity);
  const { scale, exact } = deriveScale(open.map((j) => dots[j]), open.map((j) => scores[j]), headDim);

  const steps: KeyStep[] = dots.map((d, j) => {
    const masked = scores[j] === -Infinity;
    const scaled = d * scale;
    return { key: j, dot: d, scaled, bias: masked || exact ? 0 : scores[j] - scaled, masked, score: scores[j], weight: probs[j] };
  });

  const max = Math.max(...open.map((j) => scores[j]));
  const exps = steps.map((s) => (s.masked ? 0 : Math.exp(s.score - max)));
  const total = exps.reduce((a, b) => a + b, 0);
  const softmaxError = steps.reduce((err, s, j) => Math.max(err, Math.abs((total > 0 ? exps[j] / total : 0) - s.weight)), 0);

  const output = new Float32Array(headDim);
  steps.forEach((s) => {
    if (s.weight === 0) return;
    const v = headVector(layer.v, s.key, kvHead, numKvHeads, headDim);
    for (let d = 0; d < headDim; d++) output[d] += s.weight * v[d];
  });
  return {
    head, query, kvHead, headDim, scale, scaleLabel: scaleLabel(scale, headDim), hasBias: !exact && steps.some((s) => s.bias !== 0),
    steps, queryVector, output, engineOutput: headVector(layer.headOutputs, query, head, numHeads, headDim), softmaxError,
    values: keyValues(layer, kvHead),
  };
}

/** [keys, headDim]: the value vectors of one key/value head. */
function keyValues(layer: StepLayer, kvHead: number): Float32Array {
  const out = new Float32Array(layer.keyLength * layer.headDim);
  for (let j = 0; j < layer.keyLength; j++) out.set(headVector(layer.v, j, kvHead, layer.numKvHeads, layer.headDim), j * layer.headDim);
  return out;
}
