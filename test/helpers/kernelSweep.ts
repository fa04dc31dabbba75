/**
 * The size sweeps every fast kernel is checked over against its plain twin (the reference kernels):
 * shapes that cross each tile, panel and block edge (exhaustive on small ranges, seeded random
 * beyond), and attention inputs drawn so that attention is peaked. Near-uniform attention hides a
 * wrong row inside any tolerance, so every attention case also proves its data is peaked.
 */
import * as assert from 'assert';
import type { AttentionOptions, Backend, PointwiseActivation } from '../../src/engine/backend';
import * as reference from '../../src/engine/cpu/reference';
import { toFloat32, type HostTensor } from '../../src/engine/tensor';
import { Tolerance, assertClose } from './compare';
import { half, type Build } from './webgpuTwins';

const ACTIVATIONS: PointwiseActivation[] = ['none', 'relu', 'silu', 'gelu_erf', 'gelu_tanh'];

/** A seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function uniform(count: number, next: () => number, amplitude = 1): Float32Array {
  return Float32Array.from({ length: count }, () => (next() * 2 - 1) * amplitude);
}

export interface MatmulShape {
  readonly rows: number;
  readonly inDim: number;
  readonly outDim: number;
  readonly activation: PointwiseActivation;
  readonly bias: boolean;
  readonly residual: boolean;
  /** How the weight is stored: bfloat16 weights keep their 16 bits on every backend (F32 if absent). */
  readonly weights?: 'BF16';
}

export interface MatmulSweepSize {
  /** Each axis in turn runs 1…exhaustive while the other two stay at odd sizes. */
  readonly exhaustive: number;
  /** Seeded random shapes with every dimension in 1…randomMax. */
  readonly randomShapes: number;
  readonly randomMax: number;
  /** The sizes the other two axes take during an exhaustive run of one axis. */
  readonly fixed: readonly [rows: number, inDim: number, outDim: number];
}

export function matmulSweep(size: MatmulSweepSize, seed = 1): MatmulShape[] {
  const shapes: MatmulShape[] = [];
  const options = (n: number) => ({ activation: ACTIVATIONS[n % ACTIVATIONS.length], bias: n % 2 === 0, residual: n % 3 === 0 });
  const [rows, inDim, outDim] = size.fixed;
  for (let n = 1; n <= size.exhaustive; n++) {
    shapes.push({ rows: n, inDim, outDim, ...options(n) });
    shapes.push({ rows, inDim: n, outDim, ...options(n + 1) });
    shapes.push({ rows, inDim, outDim: n, ...options(n + 2) });
    // bfloat16 weights across every k length and every panel edge of the weight.
    shapes.push({ rows, inDim: n, outDim, ...options(n + 3), weights: 'BF16' });
    shapes.push({ rows, inDim, outDim: n, ...options(n + 4), weights: 'BF16' });
  }
  const next = seeded(seed);
  const dim = () => 1 + Math.floor(next() * size.randomMax);
  for (let n = 0; n < size.randomShapes; n++) shapes.push({ rows: dim(), inDim: dim(), outDim: dim(), ...options(n), ...(n % 7 === 3 && { weights: 'BF16' as const }) });
  return shapes;
}

export function matmulName(s: MatmulShape): string {
  return `${s.rows}×${s.inDim} · ${s.inDim}×${s.outDim}${s.weights ? ' (bf16 weight)' : ''}${s.bias ? ' +bias' : ''}${s.activation === 'none' ? '' : ` ${s.activation}`}${s.residual ? ' +residual' : ''}`;
}

/** A backend under test, named in failure messages. */
export interface NamedBackend {
  readonly name: string;
  readonly backend: Backend;
}

/** Runs one linear on each backend and compares it with the reference kernel (computed once). */
export async function checkMatmul(backends: readonly NamedBackend[], s: MatmulShape, seed: number): Promise<void> {
  const next = seeded(seed);
  const x = uniform(s.rows * s.inDim, next, 2);
  const drawn = uniform(s.outDim * s.inDim, next);
  // A bfloat16 weight: the drawn values' upper 16 bits, which the reference reads widened back exactly.
  const bits = s.weights ? Uint16Array.from(new Uint32Array(drawn.buffer), (b) => b >>> 16) : undefined;
  const w = bits ? new Float32Array(Uint32Array.from(bits, (b) => b << 16).buffer) : drawn;
  const weight: HostTensor = bits ? { dtype: 'BF16', shape: [s.outDim, s.inDim], data: bits } : { dtype: 'F32', shape: [s.outDim, s.inDim], data: w };
  const bias = s.bias ? uniform(s.outDim, next) : undefined;
  const residual = s.residual ? uniform(s.rows * s.outDim, next) : undefined;
  const expected = reference.linear(x, w, s.rows, s.inDim, s.outDim, bias, s.activation, residual);
  for (const { name, backend } of backends) {
    const inputs = [backend.fromFloat32(x, [s.rows, s.inDim])];
    if (residual) inputs.push(backend.fromFloat32(residual, [s.rows, s.outDim]));
    const out = backend.linear(inputs[0], backend.upload(weight), {
      bias: bias && backend.upload({ dtype: 'F32', shape: [s.outDim], data: bias }), residual: inputs[1], activation: s.activation,
    });
    const [actual] = await backend.read([out]);
    backend.release([...inputs, out]);
    // Float32 sums of K products of magnitude ≤ 2 against float64 ones: a few ulps of √K·2.
    assertClose(actual, expected, { atol: 4e-6 * Math.sqrt(s.inDim), rtol: 1e-5 }, `${name}: ${matmulName(s)}`);
  }
}

export interface AttentionCase {
  readonly queries: number;
  readonly keys: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly causal: boolean;
  readonly bias?: boolean;
  /** Gemma 2's cap · tanh(s / cap) on the scaled scores. */
  readonly softCap?: number;
  readonly slidingWindow?: number;
}

/** The soft-cap the sweep uses: Gemma 2's value; the largest scores (about 3 standard deviations of 12) lose a sixth of their size. */
export const SWEEP_SOFT_CAP = 50;

/**
 * Sliding windows rotated over the causal lengths: none, a single key, Mistral's 8 (in the fixtures),
 * a window wider than the input, and 13. Five entries and a soft-cap every third length: both periods
 * are prime to the 8-key panels and 16-query blocks, so each variant meets every block edge.
 */
function causalVariant(t: number): Pick<AttentionCase, 'slidingWindow' | 'softCap'> {
  const windows = [undefined, 1, 8, t + 3, 13];
  const slidingWindow = windows[t % windows.length];
  return { ...(slidingWindow !== undefined ? { slidingWindow } : {}), ...(t % 3 === 1 ? { softCap: SWEEP_SOFT_CAP } : {}) };
}

export const HEAD_DIMS = [8, 16, 64, 80, 128];
export const GQA_RATIOS = [1, 2, 4, 8];

/**
 * Self-attention at every length 1…everyLengthTo, causal and bidirectional, with the head size and
 * GQA ratio rotating over the lengths (so each pair meets many lengths and every block edge); then
 * `sampled` seeded lengths up to sampleMax, a few cached decoding steps (fewer queries than keys), and
 * a position bias.
 */
export function attentionSweep(everyLengthTo: number, sampled: number, sampleMax: number, seed = 2): AttentionCase[] {
  const cases: AttentionCase[] = [];
  const config = (n: number) => {
    const ratio = GQA_RATIOS[n % GQA_RATIOS.length];
    const kvHeads = n % 3 === 0 ? 2 : 1;
    return { heads: ratio * kvHeads, kvHeads, headDim: HEAD_DIMS[Math.floor(n / GQA_RATIOS.length) % HEAD_DIMS.length] };
  };
  for (let t = 1; t <= everyLengthTo; t++) {
    cases.push({ queries: t, keys: t, causal: true, ...config(t), ...causalVariant(t) });
    cases.push({ queries: t, keys: t, causal: false, ...config(t + 7), ...(t % 3 === 2 ? { softCap: SWEEP_SOFT_CAP } : {}) });
  }
  const next = seeded(seed);
  for (let n = 0; n < sampled; n++) {
    const t = everyLengthTo + 1 + Math.floor(next() * (sampleMax - everyLengthTo));
    const ratio = GQA_RATIOS[n % GQA_RATIOS.length];
    // Every other long causal case has a window that starts far into the keys.
    const window = n % 4 === 2 ? { slidingWindow: 100 + n } : {};
    cases.push({ queries: t, keys: t, causal: n % 2 === 0, heads: ratio, kvHeads: 1, headDim: HEAD_DIMS[n % HEAD_DIMS.length], ...(n % 2 === 0 ? window : {}) });
  }
  // Cached decoding (fewer queries than keys): windows count in absolute positions.
  for (const [queries, keys, slidingWindow] of [[1, 17], [1, 129, 1], [3, 64, 8], [5, 300, 8], [17, 33, 40], [9, 70, 20]]) {
    cases.push({ queries, keys, causal: true, ...config(queries + keys), ...(slidingWindow ? { slidingWindow } : {}) });
  }
  cases.push({ queries: 45, keys: 45, causal: false, heads: 4, kvHeads: 4, headDim: 8, bias: true });
  cases.push({ queries: 37, keys: 37, causal: true, heads: 2, kvHeads: 2, headDim: 16, bias: true, softCap: SWEEP_SOFT_CAP, slidingWindow: 8 });
  return cases;
}

export function attentionName(c: AttentionCase): string {
  const shape = c.queries === c.keys ? `T=${c.queries}` : `${c.queries} queries over ${c.keys} keys`;
  const extras = [c.bias ? 'position bias' : '', c.softCap ? `soft-cap ${c.softCap}` : '', c.slidingWindow ? `window ${c.slidingWindow}` : ''].filter(Boolean);
  return `${shape}, ${c.heads}/${c.kvHeads} heads of ${c.headDim}, ${c.causal ? 'causal' : 'bidirectional'}${extras.map((e) => `, ${e}`).join('')}`;
}

/** q, k, v (and a bias) whose scaled scores spread over tens of units: peaked attention. */
function attentionInputs(c: AttentionCase, seed: number) {
  const next = seeded(seed);
  const scale = 1 / Math.sqrt(c.headDim);
  // Uniform entries of amplitude a give scaled scores of standard deviation a²/3 (for scale 1/√D): 12.
  const amplitude = 6;
  return {
    q: uniform(c.queries * c.heads * c.headDim, next, amplitude),
    k: uniform(c.keys * c.kvHeads * c.headDim, next, amplitude),
    v: uniform(c.keys * c.kvHeads * c.headDim, next),
    bias: c.bias ? uniform(c.heads * c.queries * c.keys, next, 8).map((b, i) => (i % 11 === 5 ? -Infinity : b)) : undefined,
    scale,
    scoreBound: amplitude * amplitude * c.headDim * scale,
  };
}

/** Mean over the rows that see any key of the row's largest probability. */
function meanRowMax(probs: Float32Array, keys: number): number {
  let sum = 0;
  let rows = 0;
  for (let r = 0; r < probs.length / keys; r++) {
    let max = 0;
    for (let j = 0; j < keys; j++) max = Math.max(max, probs[r * keys + j]);
    if (max > 0) {
      sum += max;
      rows++;
    }
  }
  return rows ? sum / rows : 1;
}

/** Runs one attention on each backend and compares probabilities, scores and context with the reference. */
export async function checkAttention(backends: readonly NamedBackend[], c: AttentionCase, seed: number): Promise<void> {
  const input = attentionInputs(c, seed);
  const options: AttentionOptions = {
    numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, scale: input.scale, causal: c.causal, keepScores: true,
    softCap: c.softCap, slidingWindow: c.slidingWindow,
  };
  const expected = reference.attention(input.q, input.k, input.v, { ...options, queryLength: c.queries, keyLength: c.keys }, input.bias);
  if (c.keys >= 8) assert.ok(meanRowMax(expected.probs, c.keys) > 0.3, `${attentionName(c)}: the test data is not peaked enough to expose a wrong row`);
  // Float32 dot products of D terms bounded by the scores' largest magnitude; probabilities inherit it.
  const scoreTolerance = 3e-7 * input.scoreBound;
  const masked = (i: number) => expected.scores[i] === -Infinity;
  for (const { name, backend } of backends) {
    const what = `${name}: ${attentionName(c)}`;
    const put = (data: Float32Array, shape: number[]) => backend.fromFloat32(data, shape);
    const inputs = [
      put(input.q, [c.queries, c.heads * c.headDim]), put(input.k, [c.keys, c.kvHeads * c.headDim]), put(input.v, [c.keys, c.kvHeads * c.headDim]),
    ];
    if (input.bias) inputs.push(put(input.bias, [c.heads, c.queries, c.keys]));
    const result = backend.attention(inputs[0], inputs[1], inputs[2], { ...options, positionBias: inputs[3] });
    const outputs = [result.probs, result.scores!, result.context];
    const [probs, scores, context] = await backend.read(outputs);
    backend.release([...inputs, ...outputs]);
    const maskDiffers = expected.scores.findIndex((s, i) => (s === -Infinity) !== (scores[i] === -Infinity));
    if (maskDiffers >= 0) assert.fail(`${what}: the mask differs at flat index ${maskDiffers} (expected ${expected.scores[maskDiffers]}, got ${scores[maskDiffers]})`);
    assertClose(scores, expected.scores, { atol: scoreTolerance, rtol: 1e-6 }, `${what}: scores`, masked);
    assertClose(probs, expected.probs, { atol: Math.max(2e-6, scoreTolerance), rtol: 1e-4 }, `${what}: probabilities`);
    assertClose(context, expected.context, { atol: Math.max(4e-6, scoreTolerance), rtol: 1e-4 }, `${what}: context`);
  }
}

export interface ValueNormCase {
  readonly keys: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Rows of the output projection (the hidden size). */
  readonly outDim: number;
  readonly dtype: HostTensor['dtype'];
  /** Uploaded as a weight (the CPU keeps its Gram matrices), or handed over as plain values. */
  readonly weight: boolean;
}

/**
 * valueNorms at every key count 1…everyKeysTo with the head size, GQA ratio and output size rotating
 * (output sizes around the CPU's 8-column panels and 64-row sgemm blocks and the GPU's 64-thread
 * rows); every fifth projection as plain values rather than a weight; then 16-bit projections and
 * GPT-2- and Llama-shaped layers.
 */
export function valueNormSweep(everyKeysTo: number): ValueNormCase[] {
  const outDims = [1, 7, 8, 9, 63, 64, 65, 130, 31];
  const cases: ValueNormCase[] = [];
  for (let keys = 1; keys <= everyKeysTo; keys++) {
    const ratio = GQA_RATIOS[keys % GQA_RATIOS.length];
    const kvHeads = keys % 3 === 0 ? 2 : 1;
    const headDim = HEAD_DIMS[Math.floor(keys / GQA_RATIOS.length) % HEAD_DIMS.length];
    cases.push({ keys, heads: ratio * kvHeads, kvHeads, headDim, outDim: outDims[keys % outDims.length], dtype: 'F32', weight: keys % 5 !== 0 });
  }
  cases.push(
    { keys: 37, heads: 4, kvHeads: 2, headDim: 8, outDim: 32, dtype: 'F16', weight: true },
    { keys: 21, heads: 4, kvHeads: 2, headDim: 16, outDim: 33, dtype: 'BF16', weight: true },
    { keys: 300, heads: 12, kvHeads: 12, headDim: 64, outDim: 768, dtype: 'F32', weight: true },
    { keys: 129, heads: 16, kvHeads: 2, headDim: 128, outDim: 200, dtype: 'F32', weight: true },
  );
  return cases;
}

export function valueNormName(c: ValueNormCase): string {
  return `${c.keys} keys, ${c.heads}/${c.kvHeads} heads of ${c.headDim}, W_O ${c.outDim}×${c.heads * c.headDim} ${c.dtype}${c.weight ? '' : ' as values'}`;
}

/** Runs valueNorms on each backend and compares with the reference kernel. */
export async function checkValueNorms(backends: readonly NamedBackend[], c: ValueNormCase, seed: number): Promise<void> {
  const next = seeded(seed);
  const inDim = c.heads * c.headDim;
  // Each kv head's values on their own scale: a head reading the wrong kv head gets the wrong size.
  const v = uniform(c.keys * c.kvHeads * c.headDim, next, 2).map((x, i) => x * (1 + Math.floor(i / c.headDim) % c.kvHeads));
  const o: HostTensor = c.dtype === 'F32' ? { dtype: 'F32', shape: [c.outDim, inDim], data: uniform(c.outDim * inDim, next) } : half(c.dtype, [c.outDim, inDim], seed);
  const heads = { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim };
  const expected = reference.valueNorms(v, toFloat32(o), { ...heads, keyLength: c.keys, outDim: c.outDim });
  for (const { name, backend } of backends) {
    const values = backend.fromFloat32(v, [c.keys, c.kvHeads * c.headDim]);
    const projection = c.weight ? backend.upload(o) : backend.fromFloat32(toFloat32(o), o.shape);
    const out = backend.valueNorms(values, projection, heads);
    const [actual] = await backend.read([out]);
    backend.release([values, out, ...(c.weight ? [] : [projection])]);
    assertNormsClose(actual, expected, v, toFloat32(o), c, `${name}: valueNorms, ${valueNormName(c)}`);
  }
}

/**
 * Each norm within a few float32 ulps of ‖W_O,h‖·‖v_j‖ (per √headDim): the error any float32 product
 * W_O,h · v_j carries, however much of it cancels (a projection of one row makes the norm |w · v|).
 */
function assertNormsClose(actual: Float32Array, expected: Float32Array, v: Float32Array, o: Float32Array, c: ValueNormCase, what: string): void {
  const { heads, kvHeads, headDim: D, keys } = c;
  const inDim = heads * D;
  const headSize = Array.from({ length: heads }, (_, h) => {
    let sum = 0;
    for (let n = 0; n < c.outDim; n++) for (let d = 0; d < D; d++) sum += o[n * inDim + h * D + d] ** 2;
    return Math.sqrt(sum);
  });
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / (heads / kvHeads));
    for (let j = 0; j < keys; j++) {
      let size = 0;
      for (let d = 0; d < D; d++) size += v[j * kvHeads * D + kv * D + d] ** 2;
      const bound = 1e-6 * Math.sqrt(D) * headSize[h] * Math.sqrt(size) + 1e-6 * expected[h * keys + j];
      const i = h * keys + j;
      if (!(Math.abs(actual[i] - expected[i]) <= bound)) assert.fail(`${what}: first mismatch at head ${h}, key ${j}: got ${actual[i]}, expected ${expected[i]} (|Δ| ${Math.abs(actual[i] - expected[i]).toExponential(2)} > ${bound.toExponential(2)})`);
    }
  }
}

export interface TwinCase {
  readonly name: string;
  readonly build: Build;
  readonly tolerance: Tolerance;
}

/**
 * The memory-bound ops over sizes that cross their blocks: norms over 1…normDims features and row
 * counts around the CPU's 8-row and the GPU's 128-thread blocks; elementwise ops around vector widths
 * and the 16,384-element task block; split with RoPE, concatenation and gather at odd sizes.
 */
export function rowOpCases(normDims: number, elementCounts: readonly number[]): TwinCase[] {
  const cases: TwinCase[] = [];
  const tight = { atol: 2e-6, rtol: 2e-5 };
  for (let dim = 1; dim <= normDims; dim++) {
    const rows = 1 + (dim * 7) % 19;
    const x = (b: Backend) => b.fromFloat32(uniform(rows * dim, seeded(dim), 3).map((v, i) => v + (i % 5)), [rows, dim]);
    const weight = uniform(dim, seeded(dim + 1000));
    const bias = uniform(dim, seeded(dim + 2000));
    // Three heads of `dim` per row: the per-head rmsNorm (Qwen3's q/k norm).
    const heads = (b: Backend) => b.fromFloat32(uniform(rows * 3 * dim, seeded(dim + 3000), 3).map((v, i) => v + (i % 7)), [rows, 3 * dim]);
    cases.push({
      name: `layerNorm and rmsNorm, ${rows} rows of ${dim}; rmsNorm per head of ${dim}`,
      build: (b) => [
        b.layerNorm(x(b), b.upload({ dtype: 'F32', shape: [dim], data: weight }), b.upload({ dtype: 'F32', shape: [dim], data: bias }), 1e-5),
        b.rmsNorm(x(b), b.upload({ dtype: 'F32', shape: [dim], data: weight }), 1e-6),
        b.rmsNorm(heads(b), b.upload({ dtype: 'F32', shape: [dim], data: weight }), 1e-6),
      ],
      tolerance: { atol: 1e-5, rtol: 1e-5 },
    });
  }
  elementCounts.forEach((count, n) => {
    const activation = ACTIVATIONS[n % ACTIVATIONS.length];
    const a = uniform(count, seeded(count), 6);
    const c = uniform(count, seeded(count + 1));
    cases.push({
      name: `add, scale, softCap and gated ${activation} over ${count} elements`,
      build: (b) => [b.add(b.fromFloat32(a, [count]), b.fromFloat32(c, [count])), b.scale(b.fromFloat32(a, [count]), -0.37),
        b.softCap(b.fromFloat32(a, [count]), 2.5), b.gated(b.fromFloat32(a, [count]), b.fromFloat32(c, [count]), activation)],
      tolerance: tight,
    });
  });
  // Partial rotary: GPT-NeoX's 25 % (4 of 16), 20 of 80, 48 of 64; full rotary on the others.
  for (const [rows, heads, kvHeads, headDim, offset, rotaryDims] of [
    [1, 1, 1, 2, 0, 2], [7, 4, 2, 8, 3, 8], [33, 6, 2, 16, 100, 4], [129, 2, 1, 80, 0, 20], [65, 3, 3, 128, 511, 128], [40, 4, 4, 64, 7, 48], [3, 2, 1, 16, 1000, 2],
  ]) {
    const width = (heads + 2 * kvHeads) * headDim;
    const x = uniform(rows * width, seeded(rows), 2);
    const invFreq = Float32Array.from({ length: rotaryDims / 2 }, (_, i) => 10000 ** (-2 * i / rotaryDims));
    const parts = [{ width: heads * headDim, rope: true }, { width: kvHeads * headDim, rope: true }, { width: kvHeads * headDim }];
    cases.push({
      name: `split q|k|v of ${rows} rows (${heads}/${kvHeads} heads of ${headDim}) with RoPE on ${rotaryDims} dims from ${offset}, then concatRows and gather`,
      build: (b) => {
        const [q, k, v] = b.split(b.fromFloat32(x, [rows, width]), parts, { invFreq, headDim, rotaryDims, positionOffset: offset });
        const table = b.upload({ dtype: 'F32', shape: [rows, width], data: x });
        const ids = Int32Array.from({ length: rows + 3 }, (_, i) => (i * 5) % rows);
        return [q, k, v, b.concatRows(k, v), b.gather(table, ids)];
      },
      tolerance: tight,
    });
  }
  return cases;
}
