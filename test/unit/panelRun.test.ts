/** The panel's run and protocol: streaming order, stale runs dropped, base64, float16 and packed rows, the shared selection. */
import * as assert from 'assert';
import { base64ToBytes, bytesToBase64 } from '../../src/protocol/codec';
import { float16Table, fromFloat16Bits, toFloat16Bits } from '../../src/protocol/float16';
import type { RunStarted } from '../../src/protocol/messages';
import { packLayer, packedSize, unpackLayer, visibleKeys } from '../../src/protocol/packing';
import { attentionWeights } from '../../src/view-model/attentionLookup';
import { AttentionRun } from '../../src/view-model/attentionRun';
import { RAW_WEIGHTS } from '../../src/view-model/weighting';
import { DEFAULT_SELECTION, moveFocus, selectionForRun, soloHead, toggleHead, toggleLock, hover, unlock, withTokenOptions } from '../../src/view-model/selection';
import { DataService, fromWire } from '../../src/view-model/dataService';
import { focusIn, viewParameters, ViewDataSource } from '../../src/view-model/viewData';
import { modelInfo } from '../helpers/modelInfo';
import { StoredRun, type LayerWithData } from '../helpers/storedRun';

function started(runId: number, count = 3): RunStarted {
  const tokens = Array.from({ length: count }, (_, i) => `t${i}`);
  return {
    type: 'run-started', runId,
    model: modelInfo({ name: 'm', modelType: 'llama', kind: 'decoder-only', numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 4, hiddenSize: 8, causal: true, untrained: false }),
    source: { text: tokens.join(' '), ids: tokens.map((_, i) => i), tokens, offsetsUtf16: tokens.map((_, i) => [i * 3, i * 3 + 2] as const), special: tokens.map(() => false) },
    backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null },
  };
}

function layer(runId: number, index: number, n = 3): LayerWithData {
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

  it('reads a layer\'s weights from its source, and none for a layer not received or not kept', () => {
    const stored = new StoredRun([started(1), layer(1, 0)]);
    const view = { stack: 'self' as const, layer: 0, heads: [1], aggregate: 'none' as const, weights: RAW_WEIGHTS };
    assert.deepStrictEqual(Array.from(attentionWeights(stored.run, view, 'query', 2)!.values), [1, 0, 0]);
    assert.strictEqual(attentionWeights(stored.run, { ...view, layer: 1 }, 'query', 2), undefined);
    const { probs: _probs, ...shape } = layer(1, 1);
    stored.run.accept(shape);
    assert.ok(stored.run.layer('self', 1), 'the layer arrived');
    assert.strictEqual(stored.run.layerData('self', 1), undefined, 'but its weights are not kept');
  });

  it('packs causal rows (only the keys each query sees) and unpacks them, with fewer queries than keys too', () => {
    for (const [queries, keys] of [[1, 1], [4, 4], [3, 7], [1, 9], [5, 5]]) {
      const shape = { numHeads: 2, queryLength: queries, keyLength: keys, causal: true };
      const full = Float32Array.from({ length: 2 * queries * keys }, (_, i) => {
        const row = Math.floor(i / keys) % queries, key = i % keys;
        return key < visibleKeys(shape, row) ? i + 1 : 0;
      });
      const packed = packLayer(full, shape);
      assert.strictEqual(packed.length, packedSize(shape));
      assert.strictEqual(packed.length, full.filter((x) => x !== 0).length, 'only the visible keys are kept');
      assert.deepStrictEqual(Array.from(unpackLayer(packed, shape)), Array.from(full));
      assert.strictEqual(packLayer(full, { ...shape, causal: false }), full, 'a bidirectional layer is stored whole');
    }
  });

  it('rounds float16 to nearest even and reads every bit pattern back', () => {
    const values = Float32Array.of(0, 1, 0.5, 1 / 3, 0.99951171875, 0.999755859375, 6e-8, 2 ** -24, 65504, 1e-3);
    const back = fromFloat16Bits(toFloat16Bits(values));
    values.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= v * 2 ** -11 + 2 ** -25, `${v} → ${back[i]}`));
    assert.strictEqual(back[5], 1, 'a tie rounds to the even neighbour');
    const table = float16Table();
    for (let bits = 0; bits < 0x7c00; bits++) assert.strictEqual(toFloat16Bits(Float32Array.of(table[bits]))[0], bits, `bits ${bits}`);
  });

  it('encodes bytes as base64 and decodes them bit-exactly', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      assert.deepStrictEqual(Array.from(base64ToBytes(bytesToBase64(bytes))), Array.from(bytes));
    }
    assert.strictEqual(bytesToBase64(new TextEncoder().encode('Man')), 'TWFu');
    assert.strictEqual(bytesToBase64(new TextEncoder().encode('Ma')), 'TWE=');
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
    const stored = new StoredRun([started(1), layer(1, 0)]);
    const run = stored.run;
    const source = new ViewDataSource();
    const s = selectionForRun(DEFAULT_SELECTION, 2, ['self']);
    assert.strictEqual(source.get(run, { ...s, layer: 1 }), undefined);
    stored.accept(layer(1, 1));
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

  it('answers a view query for a window of rows with exactly those rows of the whole view, every head', async () => {
    const stored = new StoredRun([started(1, 9), layer(1, 0, 9), layer(1, 1, 9)]);
    const service = new DataService(stored.run);
    const s = selectionForRun(DEFAULT_SELECTION, 2, ['self']);
    const p = viewParameters(s);
    const whole = await service.answer({ kind: 'view', ...p });
    const window = await service.answer({ kind: 'view', ...p, rows: { start: 3, end: 7 } });
    assert.ok(whole?.kind === 'view' && window?.kind === 'view');
    const all = fromWire(whole.matrices).matrices, part = fromWire(window.matrices).matrices;
    assert.deepStrictEqual([part.heads, part.rows, part.cols], [2, 4, 9]);
    for (let h = 0; h < 2; h++) {
      for (let r = 0; r < 4; r++) {
        assert.deepStrictEqual(Array.from(part.data.subarray((h * 4 + r) * 9, (h * 4 + r + 1) * 9)), Array.from(all.data.subarray((h * 9 + r + 3) * 9, (h * 9 + r + 4) * 9)), `head ${h} row ${r + 3}`);
      }
    }
    const tail = await service.answer({ kind: 'view', ...p, rows: { start: 8, end: 64 } });
    assert.strictEqual(tail?.kind === 'view' && tail.matrices.rows, 1, 'a window past the end stops at the last row');
  });
});
