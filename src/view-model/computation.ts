/**
 * The tutorial's walk-through with the model's real numbers, for one head and one query token, along
 * the stages this layer really has (its recipe and the engine's trace): q (and its q/k norm and RoPE),
 * q·k × the scale this model uses, the soft-cap, the position bias, the causal and sliding-window
 * mask, the softmax, and Σ weight · v. Each number is computed here from the stage before it and
 * checked against the engine's own value of that stage.
 */
import type { Computation, KeyStep, QueryStage, StepRecipe } from '../protocol/data';
import type { AttentionRecipe, TraceStageName } from '../protocol/run';
import type { Layer } from './generation';

/** A traced layer: its weights, its recipe, and the engine's intermediate tensors by stage name. */
export interface StepLayer extends Layer {
  readonly recipe: StepRecipe;
  /** Vectors [rows, heads · headDim] head-major; scores [heads, queries, keys]. */
  readonly stages: Partial<Record<TraceStageName, Float32Array>>;
}

export function kvHeadOf(head: number, numHeads: number, numKvHeads: number): number {
  return Math.floor(head / (numHeads / numKvHeads));
}

/** Row `row` of head `head` in a [rows, heads · dim] head-major packing. */
function headVector(packed: Float32Array, row: number, head: number, heads: number, dim: number): Float32Array {
  const start = row * heads * dim + head * dim;
  return packed.subarray(start, start + dim);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function scaleLabel(scale: number, headDim: number): string {
  if (Math.abs(scale - 1 / Math.sqrt(headDim)) < 1e-9) return `1/√${headDim}`;
  if (scale === 1) return '1';
  return scale.toPrecision(4);
}

/** The stage's tensor, or an error naming what the trace lacks. */
function stage(layer: StepLayer, ...names: TraceStageName[]): Float32Array {
  for (const name of names) {
    const data = layer.stages[name];
    if (data) return data;
  }
  throw new Error(`the engine's trace of ${layer.stack} layer ${layer.layer} has no ${names.join(' or ')}`);
}

/** A layer's recipe as the view needs it: its numbers, without the RoPE frequency table. */
export function stepRecipe(r: AttentionRecipe): StepRecipe {
  const { rope } = r;
  return {
    scale: r.scale, scaleSource: r.scaleSource, causal: r.causal,
    ...(r.softCap !== undefined && { softCap: r.softCap }),
    ...(r.slidingWindow !== undefined && { slidingWindow: r.slidingWindow }),
    ...(r.qkNorm && { qkNorm: r.qkNorm }),
    ...(r.positionBias && { positionBias: r.positionBias }),
    ...(rope && { rope: { rotaryDims: rope.rotaryDims, headDim: rope.headDim, theta: rope.theta, scaling: rope.scaling, ...(rope.factor !== undefined && { factor: rope.factor }) } }),
  };
}

export function computeSteps(layer: StepLayer, head: number, query: number): Computation {
  const { numHeads, numKvHeads, headDim, keyLength, queryLength, recipe } = layer;
  const kvHead = kvHeadOf(head, numHeads, numKvHeads);
  const queryStages: QueryStage[] = (['q', 'qNorm', 'qRope'] as const)
    .filter((name) => layer.stages[name])
    .map((name) => ({ name, vector: headVector(layer.stages[name]!, query, head, numHeads, headDim).slice() }));
  const queryVector = queryStages[queryStages.length - 1].vector;
  const keys = stage(layer, 'keys', 'kRope', 'kNorm', 'k');
  const values = stage(layer, 'values', 'v');
  const row = (name: TraceStageName) => layer.stages[name]?.subarray((head * queryLength + query) * keyLength, (head * queryLength + query + 1) * keyLength);
  const engineScaled = row('scaled')!, engineCapped = row('softCapped'), engineBiased = row('biased'), engineMasked = row('masked')!;
  const probs = layer.probs.subarray((head * queryLength + query) * keyLength, (head * queryLength + query + 1) * keyLength);
  // The query's position among the keys (a cached generation step's query comes after every earlier key).
  const position = query + keyLength - queryLength;
  const cap = recipe.softCap;
  const checks = { scaled: 0, capped: cap === undefined ? undefined : 0, softmax: 0 };

  const steps: KeyStep[] = [];
  for (let j = 0; j < keyLength; j++) {
    const d = dot(queryVector, headVector(keys, j, kvHead, numKvHeads, headDim));
    const scaled = d * recipe.scale;
    checks.scaled = Math.max(checks.scaled, Math.abs(scaled - engineScaled[j]));
    const capped = cap === undefined ? undefined : cap * Math.tanh(scaled / cap);
    if (capped !== undefined) checks.capped = Math.max(checks.capped!, Math.abs(capped - engineCapped![j]));
    const beforeBias = capped ?? scaled;
    const bias = engineBiased ? engineBiased[j] - (engineCapped?.[j] ?? engineScaled[j]) : 0;
    const masked = engineMasked[j] === -Infinity ? (j > position ? 'causal' : 'window') : undefined;
    steps.push({ key: j, dot: d, scaled, ...(capped !== undefined && { capped }), bias, ...(masked && { masked }), score: masked ? -Infinity : beforeBias + bias, weight: probs[j] });
  }

  const open = steps.filter((s) => !s.masked);
  const max = Math.max(...open.map((s) => s.score));
  const exps = steps.map((s) => (s.masked ? 0 : Math.exp(s.score - max)));
  const total = exps.reduce((a, b) => a + b, 0);
  steps.forEach((s, j) => (checks.softmax = Math.max(checks.softmax, Math.abs((total > 0 ? exps[j] / total : 0) - s.weight))));

  const output = new Float32Array(headDim);
  for (const s of steps) {
    if (s.weight === 0) continue;
    const v = headVector(values, s.key, kvHead, numKvHeads, headDim);
    for (let d = 0; d < headDim; d++) output[d] += s.weight * v[d];
  }
  return {
    head, query, kvHead, headDim, recipe, scaleLabel: scaleLabel(recipe.scale, headDim),
    steps, queryStages, queryVector, output, checks,
    engineOutput: headVector(stage(layer, 'context'), query, head, numHeads, headDim).slice(),
    values: keyValues(values, layer, kvHead),
  };
}

/** [keys, headDim]: the value vectors of one key/value head. */
function keyValues(values: Float32Array, layer: StepLayer, kvHead: number): Float32Array {
  const out = new Float32Array(layer.keyLength * layer.headDim);
  for (let j = 0; j < layer.keyLength; j++) out.set(headVector(values, j, kvHead, layer.numKvHeads, layer.headDim), j * layer.headDim);
  return out;
}
