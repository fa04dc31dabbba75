/** The panel's run store and protocol: streaming order, stale runs dropped, the report codec, the shared selection. */
import * as assert from 'assert';
import { base64ToBytes, bytesToBase64, decodeRunMessages, encodeRunMessages } from '../../src/protocol/codec';
import type { LayerMessage, RunMessage, RunStarted } from '../../src/protocol/messages';
import { AttentionRun } from '../../src/view-model/attentionRun';
import { DEFAULT_SELECTION, moveFocus, selectionForRun, soloHead, toggleHead, toggleLock, hover, unlock, withTokenOptions } from '../../src/view-model/selection';
import { focusIn, ViewDataSource } from '../../src/view-model/viewData';
import { modelInfo } from '../helpers/modelInfo';

function started(runId: number, count = 3): RunStarted {
  const tokens = Array.from({ length: count }, (_, i) => `t${i}`);
  return {
    type: 'run-started', runId,
    model: modelInfo({ name: 'm', modelType: 'llama', kind: 'decoder-only', numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 4, hiddenSize: 8, causal: true, untrained: false }),
    source: { text: tokens.join(' '), ids: tokens.map((_, i) => i), tokens, offsetsUtf16: tokens.map((_, i) => [i * 3, i * 3 + 2] as const), special: tokens.map(() => false) },
    backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null },
  };
}

function layer(runId: number, index: number, n = 3): LayerMessage {
  const probs = new Float32Array(2 * n * n);
  for (let h = 0; h < 2; h++) for (let i = 0; i < n; i++) probs[(h * n + i) * n + ((i + h + index) % (i + 1))] = 1;
  return { type: 'layer', runId, stack: 'self', layer: index, numHeads: 2, numKvHeads: 1, headDim: 4, queryLength: n, keyLength: n, causal: true, probs };
}

describe('panel run store and protocol', () => {
  it('streams a run: started, layers in any order, finished', () => {
    const run = new AttentionRun();
    assert.strictEqual(run.state, 'idle');
    assert.ok(run.accept(started(1)));
    assert.strictEqual(run.state, 'running');
    assert.ok(run.accept(layer(1, 1)));
    assert.strictEqual(run.layersReceived, 1);
    assert.strictEqual(run.layer('self', 0), undefined);
    assert.ok(run.accept(layer(1, 0)));
    assert.deepStrictEqual(run.stacks(), ['self']);
    assert.ok(run.accept({ type: 'run-finished', runId: 1, timings: { tokenizeMs: 1, firstLayerMs: 2, forwardMs: 3 } }));
    assert.strictEqual(run.state, 'done');
    assert.deepStrictEqual(run.messages().map((m) => m.type), ['run-started', 'layer', 'layer', 'run-finished']);
  });

  it('drops messages of an older run and lets a newer run replace the current one', () => {
    const run = new AttentionRun();
    run.accept(started(1));
    run.accept(layer(1, 0));
    assert.ok(run.accept(started(2)));
    assert.strictEqual(run.layersReceived, 0);
    assert.strictEqual(run.accept(layer(1, 1)), false);
    assert.strictEqual(run.accept({ type: 'run-finished', runId: 1, timings: { tokenizeMs: 0, firstLayerMs: 0, forwardMs: 0 } }), false);
    assert.strictEqual(run.state, 'running');
    // A layer cannot open a run that never started.
    assert.strictEqual(run.accept(layer(3, 0)), false);
    assert.strictEqual(run.id, 2);
  });

  it('records a failure before the start (a tokenizer error) as an error state', () => {
    const run = new AttentionRun();
    run.accept(started(1));
    assert.ok(run.accept({ type: 'run-failed', runId: 2, code: 'BAD_INPUT', message: 'no text' }));
    assert.strictEqual(run.state, 'error');
    assert.strictEqual(run.started, undefined);
    assert.strictEqual(run.failure?.message, 'no text');
  });

  it('answers "top keys of token i in layer l, head h" (what hovers will ask)', () => {
    const run = new AttentionRun();
    run.accept(started(1));
    run.accept(layer(1, 0));
    assert.deepStrictEqual(run.topKeys('self', 0, 1, 2, 1), [{ key: 0, weight: 1 }]);
    assert.deepStrictEqual(run.topKeys('self', 1, 0, 0, 3), []);
  });

  it('encodes typed arrays as base64 and decodes them bit-exactly (including −∞)', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      assert.deepStrictEqual(Array.from(base64ToBytes(bytesToBase64(bytes))), Array.from(bytes));
    }
    assert.strictEqual(bytesToBase64(new TextEncoder().encode('Man')), 'TWFu');
    assert.strictEqual(bytesToBase64(new TextEncoder().encode('Ma')), 'TWE=');
    const message: RunMessage = { ...layer(1, 0), scores: Float32Array.from([-Infinity, 0.5, -1e-30]) };
    const [decoded] = decodeRunMessages(encodeRunMessages([message])) as LayerMessage[];
    assert.ok(decoded.probs instanceof Float32Array);
    assert.deepStrictEqual(Array.from(decoded.probs), Array.from(message.probs));
    assert.deepStrictEqual(Array.from(decoded.scores!), [-Infinity, 0.5, Math.fround(-1e-30)]);
    assert.throws(() => base64ToBytes('ab$d'), /Invalid base64/);
  });

  it('shares one selection: toggle, solo, hover, lock, Escape', () => {
    let s = selectionForRun(DEFAULT_SELECTION, 4, ['self']);
    assert.deepStrictEqual(s.activeHeads, [true, true, true, true]);
    s = toggleHead(s, 1);
    assert.deepStrictEqual(s.activeHeads, [true, false, true, true]);
    s = soloHead(s, 2);
    assert.deepStrictEqual(s.activeHeads, [false, false, true, false]);
    assert.strictEqual(s.head, 2);
    s = soloHead(s, 2);
    assert.deepStrictEqual(s.activeHeads, [true, true, true, true]);
    s = hover(s, { side: 'query', index: 3 });
    s = toggleLock(s, { side: 'key', index: 1 });
    assert.deepStrictEqual([s.focus, s.locked], [{ side: 'key', index: 1 }, true]);
    assert.strictEqual(hover(s, { side: 'query', index: 0 }), s);
    assert.strictEqual(toggleLock(s, { side: 'key', index: 1 }).locked, false);
    s = unlock(s);
    assert.deepStrictEqual([s.focus, s.locked], [null, false]);
    assert.deepStrictEqual(moveFocus(s, 1, 5).focus, { side: 'query', index: 0 });
    assert.deepStrictEqual(moveFocus(s, -1, 5).focus, { side: 'query', index: 4 });
    assert.deepStrictEqual(moveFocus(moveFocus(s, 1, 5), 10, 5).focus, { side: 'query', index: 4 });
    assert.strictEqual(withTokenOptions(toggleLock(s, { side: 'query', index: 2 }), true, true).focus, null);
  });

  it('keeps display preferences across runs and picks a stack the run has', () => {
    const before = { ...DEFAULT_SELECTION, view: 'cross' as const, scale: 'log' as const, stack: 'cross' as const };
    const s = selectionForRun(before, 2, ['self']);
    assert.strictEqual(s.view, 'head');
    assert.strictEqual(s.stack, 'self');
    assert.strictEqual(s.scale, 'log');
    assert.strictEqual(selectionForRun(before, 2, ['encoder', 'decoder', 'cross']).stack, 'cross');
  });

  it('serves view data per layer, reduced over layers and heads, and none for layers not yet received', () => {
    const run = new AttentionRun();
    run.accept(started(1));
    run.accept(layer(1, 0));
    const source = new ViewDataSource();
    const s = selectionForRun(DEFAULT_SELECTION, 2, ['self']);
    assert.strictEqual(source.get(run, { ...s, layer: 1 }), undefined);
    run.accept(layer(1, 1));
    const one = source.get(run, s)!;
    assert.deepStrictEqual([one.matrices.heads, one.matrices.rows, one.heads.length, one.activeCount], [2, 3, 2, 2]);
    assert.strictEqual(source.get(run, s)!.matrices, one.matrices, 'cached');
    const mean = source.get(run, { ...s, layerReduction: 'mean', headMode: 'max' })!;
    assert.deepStrictEqual([mean.matrices.heads, mean.heads, mean.activeCount], [1, [0], 1]);
    assert.strictEqual(mean.layerLabel, 'mean of 2 layers');
    assert.ok(one.causal);
    // A focus from another stack or token setting that names no token here is ignored.
    assert.deepStrictEqual(focusIn(one, { side: 'key', index: 2 }), { side: 'key', index: 2 });
    assert.strictEqual(focusIn(one, { side: 'query', index: 3 }), null);
  });
});
