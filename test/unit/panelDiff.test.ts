/**
 * Comparing with a baseline: token alignment (LCS), current − baseline through the same reductions and
 * folding the views use, added and removed tokens, the largest changes, the diverging heatmap, and a
 * clear refusal for another model. Also the selection messages shared with the host (sync and reveal).
 */
import * as assert from 'assert';
import type { PanelTokens, RunStarted } from '../../src/protocol/messages';
import { alignTokens } from '../../src/view-model/alignment';
import { AttentionRun } from '../../src/view-model/attentionRun';
import { DIVERGING_MID, divergingIndex, divergingRamp } from '../../src/view-model/colors';
import { baselineOf, comparisonProblem, DiffSource, largestChanges, maxAbsOf } from '../../src/view-model/diff';
import { diffPixels } from '../../src/view-model/heatmap';
import { DEFAULT_SELECTION, revealIn, selectionForRun, selectionMessage, selectStep, toggleHead } from '../../src/view-model/selection';
import { ViewDataSource, viewParameters } from '../../src/view-model/viewData';
import { modelInfo } from '../helpers/modelInfo';
import { storedRun, type LayerWithData } from '../helpers/storedRun';

function tokensOf(words: string[]): PanelTokens {
  let at = 0;
  const offsetsUtf16 = words.map((w) => {
    const start = at;
    at += w.length + 1;
    return [start, start + w.length] as const;
  });
  return { text: words.join(' '), ids: words.map((_, i) => i), tokens: words, offsetsUtf16, special: words.map(() => false) };
}

/** A causal run of 2 heads, 1 layer: row i spreads over keys ≤ i with weights from `weight(h, i, j)`. */
function runOf(words: string[], weight: (h: number, i: number, j: number) => number, name = 'm', runId = 1): AttentionRun {
  const n = words.length;
  const started: RunStarted = {
    type: 'run-started', runId,
    model: modelInfo({ name, modelType: 'gpt2', kind: 'decoder-only', numLayers: 1, numHeads: 2, numKvHeads: 2, headDim: 2, hiddenSize: 4, causal: true, untrained: false }),
    source: tokensOf(words), backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null },
  };
  const probs = new Float32Array(2 * n * n);
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += weight(h, i, j);
      for (let j = 0; j <= i; j++) probs[(h * n + i) * n + j] = weight(h, i, j) / sum;
    }
  }
  const layer: LayerWithData = { type: 'layer', runId, stack: 'self', layer: 0, numHeads: 2, numKvHeads: 2, headDim: 2, queryLength: n, keyLength: n, causal: true, probs };
  return storedRun([started, layer]);
}

const selection = selectionForRun(DEFAULT_SELECTION, 2, ['self']);

describe('panel comparison with a baseline', () => {
  it('aligns tokens by their longest common subsequence', () => {
    const a = alignTokens(['The', 'quick', 'brown', 'fox'], ['The', 'slow', 'brown', 'fox', 'jumps']);
    assert.deepStrictEqual(Array.from(a.currentToBaseline), [0, -1, 2, 3, -1]);
    assert.deepStrictEqual(Array.from(a.baselineToCurrent), [0, -1, 2, 3]);
    // Repeated tokens pair in order; an insertion in the middle shifts the rest.
    const b = alignTokens(['a', 'b', 'a', 'c'], ['x', 'a', 'b', 'y', 'a', 'c']);
    assert.deepStrictEqual(Array.from(b.currentToBaseline), [-1, 0, 1, -1, 2, 3]);
    assert.deepStrictEqual(Array.from(alignTokens([], ['a']).currentToBaseline), [-1]);
    assert.deepStrictEqual(Array.from(alignTokens(['a', 'b'], ['b', 'a']).currentToBaseline).filter((x) => x >= 0).length, 1);
  });

  it('is zero against itself and only where tokens correspond against an edited text', () => {
    const weight = (h: number, i: number, j: number) => 1 + h + ((i * 7 + j * 3) % 5);
    const base = runOf(['The', 'quick', 'brown', 'fox'], weight);
    const data = new ViewDataSource(), diffs = new DiffSource();
    const same = diffs.get(base, base, viewParameters(selection), data.get(base, selection)!)!;
    assert.ok(Array.from(same.delta.data).every((d) => d === 0));
    assert.deepStrictEqual([same.removedQueries, Array.from(same.queryAdded)], [[], [0, 0, 0, 0]]);

    const edited = runOf(['The', 'slow', 'brown', 'fox'], (h, i, j) => (i === 3 && j === 0 ? 5 : weight(h, i, j)), 'm', 2);
    const view = data.get(edited, selection)!;
    const diff = diffs.get(edited, base, viewParameters(selection), view)!;
    assert.deepStrictEqual(Array.from(diff.queryAdded), [0, 1, 0, 0]);
    assert.deepStrictEqual(diff.removedQueries, [{ index: 1, label: 'quick' }]);
    const n = 4, at = (h: number, i: number, j: number) => (h * n + i) * n + j;
    assert.ok(Number.isNaN(diff.delta.data[at(0, 1, 0)]) && Number.isNaN(diff.delta.data[at(0, 3, 1)]), 'no counterpart: NaN');
    const expected = view.matrices.data[at(1, 3, 0)] - base.layerData('self', 0)!.probs[at(1, 3, 0)];
    assert.ok(Math.abs(diff.delta.data[at(1, 3, 0)] - expected) < 1e-7 && expected > 0.05);
    assert.strictEqual(diff.magnitude.data[at(0, 1, 0)], 0);
    // The largest change is the edited weight (row "fox" toward "The"), of whichever head moved most.
    const [top] = largestChanges(diff, view, view.heads, 3);
    assert.deepStrictEqual([top.query, top.key], [3, 0]);
    assert.ok(Math.abs(top.baseline + top.delta - top.current) < 1e-7);
    assert.ok(maxAbsOf(diff, [0, 1]) >= Math.abs(top.delta));
    assert.ok(largestChanges(diff, view, view.heads, 20).every((c) => c.key <= c.query), 'masked cells are never changes');
  });

  it('compares the mean of the active heads and words merged as the views show them', () => {
    const base = runOf(['The', 'quick', 'brown', 'fox'], (h, i, j) => 1 + h * j + i);
    const current = runOf(['The', 'quick', 'brown', 'fox'], (h, i, j) => 1 + h * j + i + (j === 0 ? 2 : 0), 'm', 2);
    const s = { ...toggleHead(selection, 1), headMode: 'mean' as const };
    const view = new ViewDataSource().get(current, s)!;
    const diff = new DiffSource().get(current, base, viewParameters(s), view)!;
    assert.deepStrictEqual([diff.delta.heads, diff.delta.rows], [1, 4]);
    assert.ok(diff.delta.data[1 * 4 + 0] > 0 && diff.delta.data[1 * 4 + 1] < 0, 'more to "The", less to the rest');
  });

  it('refuses another model and a baseline without the stack, saying why', () => {
    const baselineRun = runOf(['a', 'b'], () => 1, 'gpt2-tiny');
    const baseline = baselineOf(baselineRun)!;
    const current = runOf(['a', 'b'], () => 1, 'llama-stories260K');
    assert.match(comparisonProblem(current.started!.model, baseline, 'self')!, /baseline comes from gpt2-tiny \(1 layer × 2 heads\), this run from llama-stories260K/);
    assert.strictEqual(new DiffSource().get(current, baselineRun, viewParameters(selection), new ViewDataSource().get(current, selection)!), undefined);
    assert.match(comparisonProblem(baseline.model, baseline, 'cross')!, /no cross attention/);
    assert.strictEqual(comparisonProblem(baseline.model, baseline, 'self'), undefined);
  });

  it('draws changes on a diverging scale: decrease, background, increase, gray where new', () => {
    const ramp = divergingRamp([0, 0, 255], [255, 255, 255], [255, 128, 0]);
    assert.deepStrictEqual(Array.from(ramp.subarray(DIVERGING_MID * 4, DIVERGING_MID * 4 + 3)), [255, 255, 255]);
    assert.deepStrictEqual(Array.from(ramp.subarray(0, 3)), [0, 0, 255]);
    assert.deepStrictEqual([divergingIndex(0.5, 0.5), divergingIndex(-1, 0.5), divergingIndex(NaN, 1), divergingIndex(0.1, 0)], [2 * DIVERGING_MID, 0, DIVERGING_MID, DIVERGING_MID]);
    const pixels = diffPixels({
      data: Float32Array.from([0.2, -0.2, NaN, 0]), rows: 2, cols: 2, maxPixels: 8, maxAbs: 0.2, ramp,
      background: [255, 255, 255], mask: [0, 0, 0],
    });
    const px = (i: number) => Array.from(pixels.pixels.subarray(i * 4, i * 4 + 3));
    assert.deepStrictEqual([px(0), px(1), px(3)], [[255, 128, 0], [0, 0, 255], [255, 255, 255]]);
    assert.deepStrictEqual(px(2), [115, 115, 115], 'new tokens are marked, not drawn as "no change"');
    // Pooling keeps the change of largest magnitude, whatever its sign.
    const pooled = diffPixels({ data: Float32Array.from([0.05, -0.2, 0.1, 0]), rows: 2, cols: 2, maxPixels: 1, maxAbs: 0.2, ramp, background: [255, 255, 255], mask: [0, 0, 0] });
    assert.deepStrictEqual(Array.from(pooled.pixels.subarray(0, 3)), [0, 0, 255]);
  });
});

describe('panel selection shared with the host', () => {
  it('reports the selection with the focus as a model token index', () => {
    const s = { ...toggleHead(selection, 0), focus: { side: 'key' as const, index: 3 }, locked: true };
    const raw = { valueWeighted: false, hideSinks: false };
    assert.deepStrictEqual(selectionMessage(s, 5), { type: 'selection-changed', stack: 'self', layer: 0, heads: [1], aggregate: 'none', focus: { side: 'key', index: 5, locked: true }, ...raw });
    assert.deepStrictEqual(selectionMessage({ ...s, headMode: 'max', view: 'cross' }, null), { type: 'selection-changed', stack: 'cross', layer: 0, heads: [1], aggregate: 'max', focus: null, ...raw });
    // The hovers and the overlay weigh attention as the panel does.
    assert.deepStrictEqual(selectionMessage({ ...s, valueWeighted: true, hideSinks: true }, 5), { ...selectionMessage(s, 5), valueWeighted: true, hideSinks: true });
  });

  it('reveals a layer, soloes the head and locks the token', () => {
    const s = { ...selectionForRun(DEFAULT_SELECTION, 4, ['encoder', 'decoder', 'cross']), view: 'model' as const, headMode: 'mean' as const, layerReduction: 'mean' as const };
    const shown = revealIn(s, { stack: 'decoder', layer: 2, head: 1 }, 6);
    assert.deepStrictEqual([shown.view, shown.stack, shown.layer, shown.layerReduction, shown.headMode, shown.head], ['head', 'decoder', 2, 'single', 'each', 1]);
    assert.deepStrictEqual(shown.activeHeads, [false, true, false, false]);
    assert.deepStrictEqual([shown.focus, shown.locked], [{ side: 'query', index: 6 }, true]);
    assert.strictEqual(revealIn({ ...s, view: 'matrix' }, { stack: 'cross', layer: 0 }, null).view, 'cross');
    assert.strictEqual(revealIn({ ...s, view: 'matrix' }, { stack: 'encoder', layer: 0 }, null).view, 'matrix');
    assert.deepStrictEqual(revealIn(s, { stack: 'decoder', layer: 0, head: 9 }, null).activeHeads, s.activeHeads, 'a head the model lacks is ignored');
  });

  it('shows a generation step as the locked focus on its query row', () => {
    const s = selectStep(selection, 3, 7);
    assert.deepStrictEqual([s.step, s.focus, s.locked], [3, { side: 'query', index: 7 }, true]);
    assert.strictEqual(selectStep(selection, 2, null).focus, null);
    assert.strictEqual(selectionForRun({ ...s, view: 'steps' }, 2, ['self']).view, 'head', 'a run without steps leaves the Generation view');
    assert.strictEqual(selectionForRun({ ...s, view: 'steps' }, 2, ['self'], true).step, null);
  });

  it('opens a cross-attention run on the cross-attention view, and leaves it for a run without one', () => {
    const crossRun = selectionForRun(DEFAULT_SELECTION, 4, ['encoder', 'decoder', 'cross']);
    assert.strictEqual(crossRun.view, 'cross');
    assert.strictEqual(selectionForRun({ ...crossRun, view: 'matrix' }, 4, ['encoder', 'decoder', 'cross']).view, 'matrix', 'a view chosen on purpose stays');
    assert.strictEqual(selectionForRun(crossRun, 4, ['self']).view, 'head');
  });
});
