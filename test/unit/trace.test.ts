/**
 * ForwardWants.trace: the traced layer's intermediate tensors, checked stage by stage. Each stage is
 * recomputed from the one before it with the reference kernels (the q/k norm, RoPE from the recipe's
 * own frequencies, q·kᵀ · scale, the soft-cap, the mask the recipe describes, softmax, P·V) and must
 * equal the engine's; the last probabilities must be the attention event's. Every family, the
 * encoder-decoders' three stacks, the demo, and a generation step over cached keys.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import type { Backend } from '../../src/engine/backend';
import * as reference from '../../src/engine/cpu/reference';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';
import { generate } from '../../src/engine/generate';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent, ForwardEvent, TraceEvent } from '../../src/engine/model';
import type { AttentionStack, TraceStageName } from '../../src/protocol/run';
import { assertClose } from '../helpers/compare';
import { fixtureCases } from '../helpers/shared';

/** Stages every trace has, in order, and those a recipe adds. */
function expectedStages(e: TraceEvent, cached: boolean): TraceStageName[] {
  const r = e.recipe;
  return [
    'q', 'k', 'v',
    ...(r.qkNorm ? ['qNorm', 'kNorm'] as const : []),
    ...(r.rope ? ['qRope', 'kRope'] as const : []),
    ...(cached ? ['keys', 'values'] as const : []),
    'scaled',
    ...(r.softCap !== undefined ? ['softCapped'] as const : []),
    ...(r.positionBias ? ['biased'] as const : []),
    'masked', 'probs', 'context',
  ];
}

const close = (what: string, actual: Float32Array, expected: Float32Array, skip?: (i: number) => boolean) =>
  assertClose(actual, expected, { atol: 2e-5, rtol: 2e-5 }, what, skip);

/** x / rms(x) over each group: the q/k norm without its weight. */
function unweightedRms(x: Float32Array, group: number): Float32Array {
  return reference.rmsNorm(x, new Float32Array(group).fill(1), group, 0);
}

/**
 * qNorm = w ⊙ (q / rms(q)) over groups of `group` values for one weight w: w is estimated by least
 * squares from all groups, then every group must agree with it (a wrong grouping or no norm cannot).
 */
function checkNorm(what: string, before: Float32Array, after: Float32Array, group: number): void {
  const n = unweightedRms(before, group);
  const w = new Float64Array(group);
  const nn = new Float64Array(group);
  for (let i = 0; i < n.length; i++) {
    w[i % group] += after[i] * n[i];
    nn[i % group] += n[i] * n[i];
  }
  const predicted = Float32Array.from(n, (v, i) => (v * w[i % group]) / nn[i % group]);
  assertClose(after, predicted, { atol: 1e-4, rtol: 1e-4 }, `${what}: an RMSNorm over groups of ${group}`);
}

function checkTrace(label: string, e: TraceEvent, attention: AttentionEvent): void {
  const cached = e.stages.some((s) => s.name === 'keys');
  assert.deepStrictEqual(e.stages.map((s) => s.name), expectedStages(e, cached), `${label}: stages`);
  const stage = (name: TraceStageName) => e.stages.find((s) => s.name === name)!.data;
  const { numHeads: H, numKvHeads: Hkv, headDim: D, queryLength: Tq, keyLength: Tk, recipe } = e;
  const rows = (data: Float32Array, width: number) => data.length / width;
  assert.strictEqual(rows(stage('q'), H * D), Tq, `${label}: q rows`);
  let q = stage('q');
  let k = stage('k');
  if (recipe.qkNorm) {
    const [qGroup, kGroup] = recipe.qkNorm === 'per-head' ? [D, D] : [H * D, Hkv * D];
    checkNorm(`${label}: qNorm`, q, stage('qNorm'), qGroup);
    checkNorm(`${label}: kNorm`, k, stage('kNorm'), kGroup);
    [q, k] = [stage('qNorm'), stage('kNorm')];
  }
  if (recipe.rope) {
    const rope = recipe.rope;
    const spec = (rowCount: number) => ({ invFreq: rope.inverseFrequencies, headDim: D, rotaryDims: rope.rotaryDims, positionOffset: Tk - rowCount });
    const [qr, kr] = [q.slice(), k.slice()];
    reference.applyRope(qr, Tq, H * D, spec(Tq));
    reference.applyRope(kr, rows(kr, Hkv * D), Hkv * D, spec(rows(kr, Hkv * D)));
    close(`${label}: qRope`, stage('qRope'), qr);
    close(`${label}: kRope`, stage('kRope'), kr);
    [q, k] = [stage('qRope'), stage('kRope')];
  }
  const [keys, values] = cached ? [stage('keys'), stage('values')] : [k, stage('v')];
  assert.strictEqual(rows(keys, Hkv * D), Tk, `${label}: key rows`);
  const shape = { numHeads: H, numKvHeads: Hkv, headDim: D, queryLength: Tq, keyLength: Tk, scale: recipe.scale, causal: false };
  close(`${label}: scaled`, stage('scaled'), reference.attention(q, keys, values, shape).scores);
  let scores = stage('scaled');
  if (recipe.softCap !== undefined) {
    close(`${label}: softCapped`, stage('softCapped'), reference.softCap(scores, recipe.softCap));
    scores = stage('softCapped');
  }
  if (recipe.positionBias) scores = stage('biased');
  // The mask the recipe describes, on the stage before it.
  const masked = scores.slice();
  const window = { ...shape, causal: recipe.causal, slidingWindow: recipe.slidingWindow };
  let maskedCount = 0;
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < Tq; i++) {
      const { first, last } = reference.visibleKeys(window, i);
      for (let j = 0; j < Tk; j++) {
        if (j < first || j > last) {
          masked[(h * Tq + i) * Tk + j] = -Infinity;
          maskedCount++;
        }
      }
    }
  }
  const infinite = (i: number) => masked[i] === -Infinity;
  const differs = masked.findIndex((_, i) => infinite(i) !== (stage('masked')[i] === -Infinity));
  assert.strictEqual(differs, -1, `${label}: the masked set differs at ${differs}`);
  close(`${label}: masked`, stage('masked'), masked, infinite);
  if (recipe.causal && Tq > 1) assert.ok(maskedCount > 0, `${label}: a causal layer masks something`);
  // softmax, then P·V, per head with GQA.
  const probs = new Float32Array(masked.length);
  const context = new Float32Array(Tq * H * D);
  for (let h = 0; h < H; h++) {
    const kv = Math.floor(h / (H / Hkv));
    for (let i = 0; i < Tq; i++) {
      const row = (h * Tq + i) * Tk;
      const m = Math.max(...masked.subarray(row, row + Tk));
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += (probs[row + j] = masked[row + j] === -Infinity ? 0 : Math.exp(masked[row + j] - m));
      for (let j = 0; j < Tk; j++) probs[row + j] /= sum;
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) acc += probs[row + j] * values[j * Hkv * D + kv * D + d];
        context[i * H * D + h * D + d] = acc;
      }
    }
  }
  close(`${label}: probs`, stage('probs'), probs);
  close(`${label}: context`, stage('context'), context);
  assert.deepStrictEqual(stage('probs'), attention.probs, `${label}: the trace's probabilities are the attention event's`);
  assert.deepStrictEqual(e.recipe, attention.recipe, `${label}: one recipe`);
}

/** Runs one inspection tracing `stack` layer `layer`; returns the trace and that layer's attention event. */
async function traced(backend: Backend, source: string, input: { ids?: number[]; text?: string; targetIds?: number[]; targetText?: string }, stack: AttentionStack, layer: number) {
  const loaded = loadModel(source);
  const events: ForwardEvent[] = [];
  await inspect(loaded, backend, input, { trace: { stack, layer } }, { onEvent: (e) => void events.push(e) });
  const traces = events.filter((e): e is TraceEvent => e.type === 'trace');
  assert.strictEqual(traces.length, 1, `${source}: one trace event`);
  const attention = events.find((e): e is AttentionEvent => e.type === 'attention' && e.stack === stack && e.layer === layer)!;
  return { trace: traces[0], attention };
}

const DECODERS = [
  'gpt2-sort', 'llama-stories260K', 'qwen2-tiny-random', 'qwen3-tiny-random', 'mistral-tiny-random', 'llama3-rope-tiny-random',
  'gemma2-tiny-random', 'gemma3-tiny-random', 'gptneox-tiny-random', 'phi3-tiny-random', 'olmo2-tiny-random', 'bert-tiny-random',
];

describe('ForwardWants.trace: every stage recomputed from the one before', function () {
  this.timeout(120000);
  const backends: { name: string; backend: Backend }[] = [];
  before(() => {
    backends.push({ name: 'cpu', backend: new ReferenceBackend() }, { name: 'cpu-wasm', backend: new WasmCpuBackend({ threads: 2 }) });
  });
  after(() => backends.forEach((b) => b.backend.dispose()));

  for (const model of DECODERS) {
    it(`${model}: each layer's trace`, async () => {
      // The longest of the model's first cases that stays quick: sliding windows (8) must cut in.
      const fixture = fixtureCases([model]).find((c) => /rand_40|en_animal|sort_201102/.test(c.case)) ?? fixtureCases([model])[0];
      const meta = JSON.parse(fs.readFileSync(fixture.json, 'utf8'));
      const layers = loadModel(fixture.modelDir).model.info.numLayers;
      for (const { name, backend } of backends) {
        for (let layer = 0; layer < layers; layer++) {
          const { trace, attention } = await traced(backend, fixture.modelDir, { ids: meta.input_ids }, 'self', layer);
          checkTrace(`${name} ${model} layer ${layer}`, trace, attention);
        }
      }
    });
  }

  for (const model of ['t5-tiny-random', 'bart-tiny-random']) {
    it(`${model}: encoder, decoder and cross-attention traces`, async () => {
      const fixture = fixtureCases([model]).find((c) => c.case === 'zh_en_rain')!;
      const meta = JSON.parse(fs.readFileSync(fixture.json, 'utf8'));
      for (const { name, backend } of backends) {
        for (const stack of ['encoder', 'decoder', 'cross'] as const) {
          const { trace, attention } = await traced(backend, fixture.modelDir, { ids: meta.input_ids, targetIds: meta.labels }, stack, 1);
          checkTrace(`${name} ${model} ${stack} 1`, trace, attention);
        }
      }
    });
  }

  it('the demo: self-attention (both variants), masked self-attention and cross-attention', async () => {
    const { backend } = backends[0];
    const text = 'The animal did not cross the street because it was too tired';
    for (const [source, stack] of [['demo', 'self'], ['demo-causal', 'self']] as const) {
      const { trace, attention } = await traced(backend, source, { text }, stack, 0);
      checkTrace(`${source} ${stack}`, trace, attention);
    }
    for (const stack of ['encoder', 'decoder', 'cross'] as const) {
      const { trace, attention } = await traced(backend, 'demo', { text, targetText: 'The animal was tired' }, stack, 0);
      checkTrace(`demo ${stack}`, trace, attention);
    }
  });

  it('a generation step over cached keys: the step\'s own rows, then every key and value (gemma2, window and soft-cap)', async () => {
    const fixture = fixtureCases(['gemma2-tiny-random']).find((c) => c.case === 'rand_5')!;
    const meta = JSON.parse(fs.readFileSync(fixture.json, 'utf8'));
    const { model } = loadModel(fixture.modelDir);
    for (const { name, backend } of backends) {
      const events: ForwardEvent[] = [];
      for await (const e of generate(model, backend, { ids: meta.input_ids, maxNewTokens: 7, wants: { trace: { stack: 'self', layer: 0 } } })) {
        if (e.type !== 'token') events.push(e);
      }
      const traces = events.filter((e): e is TraceEvent => e.type === 'trace');
      assert.strictEqual(traces.length, 7, 'one trace per step');
      for (const t of traces) {
        const attention = events.find((e): e is AttentionEvent => e.type === 'attention' && e.layer === 0 && e.step === t.step)!;
        checkTrace(`${name} gemma2 step ${t.step}`, t, attention);
        if (t.step) assert.deepStrictEqual([t.queryLength, t.keyLength], [1, meta.input_ids.length + t.step]);
      }
      // Step 6 is position 10: with a window of 8 it sees keys 3 … 10 only.
      const last = traces[6].stages.find((s) => s.name === 'masked')!.data.subarray(0, 11);
      assert.deepStrictEqual([...last].map((s) => s === -Infinity), [true, true, true, ...Array(8).fill(false)], 'the window masks early keys in decoding');
    }
  });
});
