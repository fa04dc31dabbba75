/**
 * The step-by-step view's numbers: GQA head mapping, a hand-made layer, and every family's quirks from
 * the engine's own trace — RoPE on part of each head, q/k norms, Gemma's scale and soft-cap, sliding
 * windows, T5's position bias — each stage recomputed here and matched with the engine's.
 */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { TraceEvent } from '../../src/engine/model';
import type { StepRecipe } from '../../src/protocol/data';
import type { AttentionStack } from '../../src/protocol/run';
import { layerMessage } from '../../src/store/runMessages';
import { computeSteps, kvHeadOf, scaleLabel, stepRecipe, type StepLayer } from '../../src/view-model/computation';
import { sharedPath } from '../helpers/shared';

const CAUSAL: StepRecipe = { scale: 1 / Math.sqrt(3), scaleSource: 'head_dim', causal: true };

/** A small causal layer built by hand: scores = scale·q·k, probs = softmax, context = P·V. */
function syntheticLayer(): StepLayer {
  const numHeads = 4, numKvHeads = 2, headDim = 3, T = 5;
  const rand = (i: number) => Math.sin(i * 12.9898) * 0.8;
  const q = Float32Array.from({ length: T * numHeads * headDim }, (_, i) => rand(i + 1));
  const k = Float32Array.from({ length: T * numKvHeads * headDim }, (_, i) => rand(i + 101));
  const v = Float32Array.from({ length: T * numKvHeads * headDim }, (_, i) => rand(i + 201));
  const scaled = new Float32Array(numHeads * T * T), masked = new Float32Array(numHeads * T * T), probs = new Float32Array(numHeads * T * T);
  const context = new Float32Array(T * numHeads * headDim);
  for (let h = 0; h < numHeads; h++) {
    const g = Math.floor(h / 2);
    for (let i = 0; i < T; i++) {
      const row = (h * T + i) * T;
      for (let j = 0; j < T; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[(i * numHeads + h) * headDim + d] * k[(j * numKvHeads + g) * headDim + d];
        scaled[row + j] = CAUSAL.scale * dot;
        masked[row + j] = j > i ? -Infinity : scaled[row + j];
      }
      const max = Math.max(...masked.subarray(row, row + T));
      let sum = 0;
      for (let j = 0; j < T; j++) sum += probs[row + j] = Math.exp(masked[row + j] - max);
      for (let j = 0; j < T; j++) {
        probs[row + j] /= sum;
        for (let d = 0; d < headDim; d++) context[(i * numHeads + h) * headDim + d] += probs[row + j] * v[(j * numKvHeads + g) * headDim + d];
      }
    }
  }
  return {
    type: 'layer', runId: 1, stack: 'self', layer: 0, numHeads, numKvHeads, headDim, queryLength: T, keyLength: T, causal: true,
    probs, recipe: CAUSAL, stages: { q, k, v, scaled, masked, probs, context },
  };
}

/** One layer of a shared model traced on the reference backend, as the host's explain step builds it. */
async function tracedLayer(model: string, input: { text?: string; ids?: number[]; targetIds?: number[] }, stack: AttentionStack, layer: number): Promise<StepLayer> {
  const loaded = loadModel(sharedPath('models', model));
  const backend = new ReferenceBackend();
  let trace: TraceEvent | undefined;
  try {
    await inspect(loaded, backend, input, { trace: { stack, layer } }, { onEvent: (e) => void (e.type === 'trace' && (trace = e)) });
  } finally {
    backend.dispose();
  }
  assert.ok(trace, `${model}: the engine traced ${stack} layer ${layer}`);
  const stages = Object.fromEntries(trace.stages.map((s) => [s.name, s.data])) as StepLayer['stages'];
  return { ...layerMessage(1, trace, loaded.model.info), probs: stages.probs!, recipe: stepRecipe(trace.recipe), stages };
}

function assertMatchesEngine(layer: StepLayer, label: string): void {
  for (const head of [0, layer.numHeads - 1]) {
    for (const query of [0, Math.floor(layer.queryLength / 2), layer.queryLength - 1]) {
      const c = computeSteps(layer, head, query);
      const at = `${label} head ${head} query ${query}`;
      assert.ok(c.checks.scaled < 1e-4, `${at}: q·k × scale differs from the engine's by ${c.checks.scaled}`);
      if (c.checks.capped !== undefined) assert.ok(c.checks.capped < 1e-4, `${at}: soft-cap differs by ${c.checks.capped}`);
      assert.ok(c.checks.softmax < 1e-5, `${at}: softmax differs by ${c.checks.softmax}`);
      c.output.forEach((x, d) => assert.ok(Math.abs(x - c.engineOutput[d]) < 1e-4, `${at} dim ${d}: Σ weight·v ${x} vs the engine's ${c.engineOutput[d]}`));
    }
  }
}

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside with her ball and her dog.';

describe('panel step-by-step computation', function () {
  this.timeout(60000);

  it('maps query heads to kv heads as GQA does', () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5, 6, 7].map((h) => kvHeadOf(h, 8, 4)), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert.deepStrictEqual([0, 1, 2].map((h) => kvHeadOf(h, 3, 3)), [0, 1, 2]);
    assert.strictEqual(scaleLabel(0.125, 64), '1/√64');
    assert.strictEqual(scaleLabel(0.25, 64), '0.2500');
  });

  it('a hand-made layer: the scale, the causal mask, the softmax and Σ weight·v', () => {
    const layer = syntheticLayer();
    const c = computeSteps(layer, 3, 1);
    assert.deepStrictEqual([c.kvHead, c.scaleLabel, c.recipe.scaleSource], [1, '1/√3', 'head_dim']);
    assert.deepStrictEqual(c.steps.map((s) => s.masked ?? 'seen'), ['seen', 'seen', 'causal', 'causal', 'causal']);
    assert.ok(c.steps.filter((s) => s.masked).every((s) => s.weight === 0 && s.score === -Infinity));
    assert.deepStrictEqual(c.queryStages.map((s) => s.name), ['q']);
    assertMatchesEngine(layer, 'hand-made');
  });

  it('llama-stories260K (GQA 8/4): RoPE on every dimension, scale 1/√8', async () => {
    const layer = await tracedLayer('llama-stories260K', { text: STORY }, 'self', 4);
    const c = computeSteps(layer, 5, 10);
    assert.deepStrictEqual(c.queryStages.map((s) => s.name), ['q', 'qRope']);
    assert.deepStrictEqual([c.recipe.rope?.rotaryDims, c.recipe.rope?.headDim, c.scaleLabel], [8, 8, '1/√8']);
    assertMatchesEngine(layer, 'llama-stories260K layer 4');
  });

  it('gemma2-tiny-random: query_pre_attn_scalar 24, soft-cap 50 before the mask, a window of 8 on layer 0 (not on layer 1)', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => 5 + ((i * 7) % 40));
    const local = await tracedLayer('gemma2-tiny-random', { ids }, 'self', 0);
    const c = computeSteps(local, 2, 20);
    assert.deepStrictEqual([c.recipe.scaleSource, c.recipe.softCap, c.recipe.slidingWindow], ['query_pre_attn_scalar', 50, 8]);
    assert.ok(Math.abs(c.recipe.scale - 1 / Math.sqrt(24)) < 1e-7, `scale ${c.recipe.scale}`);
    // Query 20 sees keys 13 … 20 (20 − 8 < k ≤ 20), as the config's sliding_window says.
    assert.deepStrictEqual(c.steps.map((s) => s.masked ?? 'seen'), Array.from({ length: 30 }, (_, k) => (k > 20 ? 'causal' : k <= 12 ? 'window' : 'seen')));
    for (const s of c.steps) assert.ok(Math.abs(s.capped! - 50 * Math.tanh(s.scaled / 50)) < 1e-9);
    assertMatchesEngine(local, 'gemma2 layer 0');
    const global = await tracedLayer('gemma2-tiny-random', { ids }, 'self', 1);
    const g = computeSteps(global, 0, 29);
    assert.strictEqual(g.recipe.slidingWindow, undefined);
    assert.ok(g.steps.every((s) => !s.masked), 'the last query of a global layer sees every key');
    assertMatchesEngine(global, 'gemma2 layer 1');
  });

  it('gptneox-tiny-random: RoPE on the first quarter of each head only', async () => {
    const layer = await tracedLayer('gptneox-tiny-random', { text: STORY }, 'self', 1);
    const c = computeSteps(layer, 1, 12);
    assert.deepStrictEqual([c.recipe.rope?.rotaryDims, c.recipe.rope?.headDim], [4, 16]);
    const [raw, rotated] = [c.queryStages[0].vector, c.queryStages[c.queryStages.length - 1].vector];
    for (let d = 4; d < 16; d++) assert.strictEqual(rotated[d], raw[d], `dimension ${d} passes RoPE unchanged`);
    assert.ok([0, 1, 2, 3].some((d) => rotated[d] !== raw[d]), 'the rotary dimensions turn');
    assertMatchesEngine(layer, 'gptneox layer 1');
  });

  it('qwen3 and olmo2: the q/k norm stage (per head, and over the whole projection)', async () => {
    for (const [model, norm] of [['qwen3-tiny-random', 'per-head'], ['olmo2-tiny-random', 'whole-projection']] as const) {
      const layer = await tracedLayer(model, { text: STORY }, 'self', 0);
      const c = computeSteps(layer, 0, 7);
      assert.deepStrictEqual([c.recipe.qkNorm, c.queryStages.map((s) => s.name)], [norm, ['q', 'qNorm', 'qRope']], model);
      assertMatchesEngine(layer, model);
    }
  });

  it('mistral-tiny-random: the sliding window of 8 hides keys 8 and more positions back', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => 3 + ((i * 5) % 30));
    const layer = await tracedLayer('mistral-tiny-random', { ids }, 'self', 1);
    const c = computeSteps(layer, 3, 23);
    assert.deepStrictEqual(c.steps.map((s) => s.masked ?? 'seen'), Array.from({ length: 24 }, (_, k) => (k <= 15 ? 'window' : 'seen')));
    assertMatchesEngine(layer, 'mistral layer 1');
  });

  it('t5-tiny-random: scale 1 plus the relative position bias, in the encoder, decoder and cross-attention', async () => {
    for (const stack of ['encoder', 'decoder', 'cross'] as const) {
      const layer = await tracedLayer('t5-tiny-random', { text: 'The house is wonderful.', targetIds: [0, 12, 25, 7] }, stack, 0);
      const c = computeSteps(layer, 1, layer.queryLength - 1);
      assert.deepStrictEqual([c.recipe.scaleSource, c.scaleLabel], ['none', '1'], stack);
      if (stack !== 'cross') assert.ok(c.steps.some((s) => s.bias !== 0), `${stack}: a position bias`);
      assertMatchesEngine(layer, `t5 ${stack}`);
    }
  });
});
