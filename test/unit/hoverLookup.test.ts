/** What a hover and the heat overlay read from a run (src/view-model/attentionLookup.ts): heads, aggregation, rows, columns. */
import * as assert from 'assert';
import { attentionWeights, focusForToken, headViewFor, hoverSections, partOf } from '../../src/view-model/attentionLookup';
import type { LayerMessage, PanelTokens, RunStarted } from '../../src/protocol/messages';
import { AttentionRun } from '../../src/view-model/attentionRun';
import { RAW_WEIGHTS } from '../../src/view-model/weighting';
import { modelInfo } from '../helpers/modelInfo';
import { StoredRun, type LayerWithData } from '../helpers/storedRun';

function tokens(words: string[]): PanelTokens {
  let at = 0;
  const offsetsUtf16 = words.map((w) => {
    const o = [at, at + w.length] as const;
    at += w.length + 1;
    return o;
  });
  return { text: words.join(' '), ids: words.map((_, i) => i), tokens: words, offsetsUtf16, special: words.map(() => false) };
}

const MODEL = modelInfo({ name: 'm', modelType: 'demo', kind: 'encoder-only', numLayers: 2, numHeads: 2, numKvHeads: 2, headDim: 4, hiddenSize: 8, causal: false, untrained: true });

/** probs[h][q][k] from nested lists. */
function layer(stack: LayerMessage['stack'], index: number, probs: number[][][]): LayerWithData {
  const rows = probs[0].length, cols = probs[0][0].length;
  return { type: 'layer', runId: 1, stack, layer: index, numHeads: probs.length, numKvHeads: probs.length, headDim: 4, queryLength: rows, keyLength: cols, causal: false, probs: new Float32Array(probs.flat(2)) };
}

function selfRun(): AttentionRun {
  const run = new StoredRun();
  const started: RunStarted = { type: 'run-started', runId: 1, model: MODEL, source: tokens(['a', 'b', 'c']), backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null } };
  run.accept(started);
  run.accept({
    ...layer('self', 0, [
      [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]],
      [[0.1, 0.1, 0.8], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]],
    ]),
    valueNorms: Float32Array.of(1, 2, 7, 1, 1, 1),
  });
  return run.run;
}

function crossRun(): AttentionRun {
  const run = new StoredRun();
  run.accept({ type: 'run-started', runId: 1, model: MODEL, source: tokens(['雨', '大']), target: tokens(['It', 'rained', 'heavily']), backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null } });
  // cross: queries = 3 target tokens, keys = 2 source tokens.
  run.accept(layer('cross', 0, [[[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], [[0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]]));
  return run.run;
}

const close = (actual: ArrayLike<number>, expected: number[]) =>
  assert.deepStrictEqual(Array.from(actual, (x) => Math.round(x * 1000) / 1000), expected);

describe('hover lookup', () => {
  it('defaults to layer 0, every head, the configured aggregation, until the panel reports a selection', () => {
    const run = selfRun();
    assert.deepStrictEqual(headViewFor(run, 'self', undefined, 'mean'), { stack: 'self', layer: 0, heads: [0, 1], aggregate: 'mean', weights: RAW_WEIGHTS });
    assert.deepStrictEqual(headViewFor(run, 'self', undefined, 'none'), { stack: 'self', layer: 0, heads: [0, 1], aggregate: 'none', weights: RAW_WEIGHTS });
  });

  it('follows the panel: its layer (when it has arrived), its active heads, its aggregation', () => {
    const run = selfRun();
    const selection = { stack: 'self' as const, layer: 0, heads: [1], aggregate: 'none' as const, focus: null, ...RAW_WEIGHTS };
    assert.deepStrictEqual(headViewFor(run, 'self', selection, 'mean'), { stack: 'self', layer: 0, heads: [1], aggregate: 'none', weights: RAW_WEIGHTS });
    assert.strictEqual(headViewFor(run, 'self', { ...selection, layer: 1 }, 'mean').layer, 0, 'layer 1 has not arrived');
  });

  it('reads rows (what a query attends to) and columns (who attends to a key), by head, mean or max', () => {
    const run = selfRun();
    close(attentionWeights(run, { stack: 'self', layer: 0, heads: [0], aggregate: 'none', weights: RAW_WEIGHTS }, 'query', 0)!.values, [0.7, 0.2, 0.1]);
    close(attentionWeights(run, { stack: 'self', layer: 0, heads: [0, 1], aggregate: 'mean', weights: RAW_WEIGHTS }, 'query', 0)!.values, [0.4, 0.15, 0.45]);
    close(attentionWeights(run, { stack: 'self', layer: 0, heads: [0, 1], aggregate: 'max', weights: RAW_WEIGHTS }, 'query', 1)!.values, [0.5, 0.8, 0.5]);
    close(attentionWeights(run, { stack: 'self', layer: 0, heads: [1], aggregate: 'none', weights: RAW_WEIGHTS }, 'key', 1)!.values, [0.1, 0, 1]);
    assert.strictEqual(attentionWeights(run, { stack: 'self', layer: 0, heads: [1], aggregate: 'none', weights: RAW_WEIGHTS }, 'key', 1)!.heads, undefined, 'one head: nothing to name');
    assert.strictEqual(attentionWeights(run, { stack: 'self', layer: 1, heads: [0], aggregate: 'none', weights: RAW_WEIGHTS }, 'query', 0), undefined);
    assert.strictEqual(attentionWeights(run, { stack: 'self', layer: 0, heads: [0], aggregate: 'none', weights: RAW_WEIGHTS }, 'query', 3), undefined);
  });

  it('weighs as the panel does: value-weighted by ‖W_O,h · v_j‖, the sinks hidden, rows renormalised', () => {
    const run = selfRun();
    const view = { stack: 'self' as const, layer: 0, heads: [0], aggregate: 'none' as const };
    // Head 0's norms 1, 2, 7: row 0 [0.7, 0.2, 0.1] → [0.7, 0.4, 0.7] / 1.8.
    close(attentionWeights(run, { ...view, weights: { valueWeighted: true, hideSinks: false } }, 'query', 0)!.values, [0.389, 0.222, 0.389]);
    // Sink 0 hidden: row 0 → [0, 0.2, 0.1] / 0.3; column 0 is empty.
    close(attentionWeights(run, { ...view, weights: { valueWeighted: false, hideSinks: true } }, 'query', 0, [0])!.values, [0, 0.667, 0.333]);
    close(attentionWeights(run, { ...view, weights: { valueWeighted: false, hideSinks: true } }, 'key', 0, [0])!.values, [0, 0, 0]);
    // Both, and the hover's sections follow the panel's toggles.
    close(attentionWeights(run, { ...view, weights: { valueWeighted: true, hideSinks: true } }, 'query', 0, [0])!.values, [0, 0.364, 0.636]);
    const content = hoverSections(run, 'source', 0, { ...view, focus: null, valueWeighted: true, hideSinks: true }, 'mean', 1, () => [0])!;
    assert.deepStrictEqual(content.sections[0].rows.map((r) => r.token), ['c']);
  });

  it('each head on its own (\'none\' over several heads): every partner at its strongest head, which is named', () => {
    const weights = attentionWeights(selfRun(), { stack: 'self', layer: 0, heads: [0, 1], aggregate: 'none', weights: RAW_WEIGHTS }, 'query', 2)!;
    close(weights.values, [0.3, 1, 0.4]);
    assert.deepStrictEqual(Array.from(weights.heads!), [0, 1, 0]);
    const content = hoverSections(selfRun(), 'source', 2, undefined, 'none', 2)!;
    assert.deepStrictEqual(content.sections[0].rows.map((r) => [r.token, r.head]), [['b', 1], ['c', 0]]);
  });

  it('self-attention hover: the top-k keys a token attends to and the queries attending to it', () => {
    const content = hoverSections(selfRun(), 'source', 2, { stack: 'self', layer: 0, heads: [0], aggregate: 'none', focus: null, ...RAW_WEIGHTS }, 'mean', 2)!;
    assert.strictEqual(content.token, 'c');
    assert.deepStrictEqual(content.sections.map((s) => [s.kind, s.rows.map((r) => r.token)]), [['attends-to', ['c', 'a']], ['attended-by', ['c', 'a']]]);
    assert.strictEqual(Math.round(content.sections[0].rows[0].weight * 10), 4);
  });

  it('cross-attention hover: a target token lists source tokens, a source token lists target tokens', () => {
    const run = crossRun();
    const target = hoverSections(run, 'target', 1, undefined, 'mean', 5)!;
    assert.strictEqual(target.view.stack, 'cross');
    assert.deepStrictEqual(target.sections.map((s) => [s.kind, s.partners, s.rows.map((r) => r.token)]), [['attends-to', 'source', ['大', '雨']]]);
    const source = hoverSections(run, 'source', 0, undefined, 'mean', 2)!;
    assert.deepStrictEqual(source.sections.map((s) => [s.kind, s.partners, s.rows.map((r) => r.token)]), [['attended-by', 'target', ['It', 'rained']]]);
  });

  it('maps stacks and sides to the inspected texts, and editor tokens to focuses', () => {
    assert.strictEqual(partOf('self', 'key'), 'source');
    assert.strictEqual(partOf('decoder', 'query'), 'target');
    assert.strictEqual(partOf('cross', 'query'), 'target');
    assert.strictEqual(partOf('cross', 'key'), 'source');
    assert.deepStrictEqual(focusForToken(false, 'source', 4), { stack: 'self', side: 'query', index: 4 });
    assert.deepStrictEqual(focusForToken(true, 'target', 1), { stack: 'cross', side: 'query', index: 1 });
    assert.deepStrictEqual(focusForToken(true, 'source', 0), { stack: 'cross', side: 'key', index: 0 });
  });
});
