/** The step-by-step view's numbers: scale read from the scores, GQA head mapping, and the engine's own outputs reproduced. */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent } from '../../src/engine/model';
import { layerMessage } from '../../src/store/runMessages';
import { computeSteps, deriveScale, kvHeadOf, scaleLabel, type StepLayer } from '../../src/view-model/computation';
import { sharedPath } from '../helpers/shared';

/** A small causal layer built by hand: scores = scale·q·k (+ bias), probs = softmax, outputs = P·V. */
function syntheticLayer(scale: number, bias: (i: number, j: number) => number): StepLayer {
  const numHeads = 4, numKvHeads = 2, headDim = 3, T = 5;
  const rand = (i: number) => Math.sin(i * 12.9898) * 0.8;
  const q = Float32Array.from({ length: T * numHeads * headDim }, (_, i) => rand(i + 1));
  const k = Float32Array.from({ length: T * numKvHeads * headDim }, (_, i) => rand(i + 101));
  const v = Float32Array.from({ length: T * numKvHeads * headDim }, (_, i) => rand(i + 201));
  const scores = new Float32Array(numHeads * T * T), probs = new Float32Array(numHeads * T * T);
  const headOutputs = new Float32Array(T * numHeads * headDim);
  for (let h = 0; h < numHeads; h++) {
    const g = Math.floor(h / 2);
    for (let i = 0; i < T; i++) {
      const row = (h * T + i) * T;
      for (let j = 0; j < T; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[(i * numHeads + h) * headDim + d] * k[(j * numKvHeads + g) * headDim + d];
        scores[row + j] = j > i ? -Infinity : scale * dot + bias(i, j);
      }
      const max = Math.max(...scores.subarray(row, row + T));
      let sum = 0;
      for (let j = 0; j < T; j++) sum += probs[row + j] = Math.exp(scores[row + j] - max);
      for (let j = 0; j < T; j++) {
        probs[row + j] /= sum;
        for (let d = 0; d < headDim; d++) headOutputs[(i * numHeads + h) * headDim + d] += probs[row + j] * v[(j * numKvHeads + g) * headDim + d];
      }
    }
  }
  return { type: 'layer', runId: 1, stack: 'self', layer: 0, numHeads, numKvHeads, headDim, queryLength: T, keyLength: T, causal: true, probs, scores, q, k, v, headOutputs };
}

describe('panel step-by-step computation', () => {
  it('maps query heads to kv heads as GQA does', () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5, 6, 7].map((h) => kvHeadOf(h, 8, 4)), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert.deepStrictEqual([0, 1, 2].map((h) => kvHeadOf(h, 3, 3)), [0, 1, 2]);
  });

  it('reads the scale 1/√dₖ from the scores and rebuilds the head output', () => {
    const layer = syntheticLayer(1 / Math.sqrt(3), () => 0);
    const c = computeSteps(layer, 3, 4);
    assert.strictEqual(c.kvHead, 1);
    assert.strictEqual(c.scale, 1 / Math.sqrt(3));
    assert.strictEqual(c.scaleLabel, '1/√3');
    assert.strictEqual(c.hasBias, false);
    assert.ok(c.softmaxError < 1e-6, `softmax error ${c.softmaxError}`);
    c.output.forEach((x, d) => assert.ok(Math.abs(x - c.engineOutput[d]) < 1e-5));
  });

  it('marks masked keys with −∞ and weight 0', () => {
    const c = computeSteps(syntheticLayer(1 / Math.sqrt(3), () => 0), 0, 1);
    assert.deepStrictEqual(c.steps.map((s) => s.masked), [false, false, true, true, true]);
    assert.ok(c.steps.filter((s) => s.masked).every((s) => s.weight === 0 && s.score === -Infinity));
  });

  it('shows a T5-style model as scale 1 plus a position bias', () => {
    const c = computeSteps(syntheticLayer(1, (i, j) => 0.3 * Math.cos(i - j) + 0.1 * (i - j)), 2, 4);
    assert.strictEqual(c.scale, 1);
    assert.strictEqual(c.scaleLabel, '1');
    assert.strictEqual(c.hasBias, true);
    const open = c.steps.filter((s) => !s.masked);
    for (const s of open) assert.ok(Math.abs(s.scaled + s.bias - s.score) < 1e-5);
  });

  it('derives an unusual scale exactly when the scores hold nothing else', () => {
    assert.deepStrictEqual(deriveScale([1, 2, -3], [0.25, 0.5, -0.75], 64), { scale: 0.25, exact: true });
    assert.deepStrictEqual(deriveScale([1, 2], [0.125, 0.25], 64), { scale: 0.125, exact: true });
    assert.strictEqual(scaleLabel(0.125, 64), '1/√64');
    assert.strictEqual(scaleLabel(0.25, 64), '0.2500');
  });

  it('reproduces llama-stories260K (GQA 8/4) head outputs from its own q, k, v', async function () {
    const loaded = loadModel(sharedPath('models', 'llama-stories260K'));
    const events: AttentionEvent[] = [];
    const backend = new ReferenceBackend();
    try {
      await inspect(loaded, backend, { text: 'Once upon a time, there was a little girl named Lily.' }, { scores: true, headVectors: true }, {
        onEvent: (e) => void (e.type === 'attention' && events.push(e)),
      });
    } finally {
      backend.dispose();
    }
    assert.strictEqual(events.length, 5);
    for (const event of [events[0], events[4]]) {
      const { probs, scores, q, k, v, headOutputs } = event;
      assert.ok(scores && q && k && v && headOutputs, 'the engine sent the step data');
      const layer: StepLayer = { ...layerMessage(1, event, loaded.model.info), probs, scores, q, k, v, headOutputs };
      for (const head of [0, 5, 7]) {
        const c = computeSteps(layer, head, layer.queryLength - 1);
        assert.strictEqual(c.scaleLabel, '1/√8');
        assert.ok(c.softmaxError < 1e-5, `layer ${event.layer} head ${head}: softmax error ${c.softmaxError}`);
        c.output.forEach((x, d) => assert.ok(Math.abs(x - c.engineOutput[d]) < 1e-4, `layer ${event.layer} head ${head} dim ${d}: ${x} vs ${c.engineOutput[d]}`));
      }
    }
  });
});
