/**
 * Generation stepping in the panel's view model: steps stacked into full matrices (checked against a
 * cache-free pass of llama-stories260K over the same tokens), the run store growing by complete steps,
 * generated tokens appended to the tokens, and one step's row folded for the Generation view.
 */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent } from '../../src/engine/model';
import type { GeneratedTokenMessage, RunStarted } from '../../src/protocol/messages';
import { generatedTokenMessage, layerMessage, startedMessage } from '../../src/store/runMessages';
import { assembleSteps, isSpecialToken, isStepStack, stepRow, stepRowMatrix, tokenPiece, withGenerated } from '../../src/view-model/generation';
import { displayTokens } from '../../src/view-model/tokens';
import { assertClose } from '../helpers/compare';
import { sharedPath } from '../helpers/shared';
import { modelInfo } from '../helpers/modelInfo';
import { StoredRun, type LayerWithData } from '../helpers/storedRun';

const backend = new ReferenceBackend();

/** A one-head layer message from rows of weights (each row over its own number of keys). */
function stepMessage(rows: number[][], step: number, cols = Math.max(...rows.map((r) => r.length))): LayerWithData {
  const probs = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => probs.set(row, r * cols));
  return { type: 'layer', runId: 1, stack: 'self', layer: 0, step, numHeads: 1, numKvHeads: 1, headDim: 2, queryLength: rows.length, keyLength: cols, causal: true, probs };
}

function startedRun(kind: 'decoder-only' | 'encoder-decoder' = 'decoder-only'): RunStarted {
  const tokens = ['<s>', '▁Once', '▁upon'];
  return {
    type: 'run-started', runId: 1, generation: { maxNewTokens: 4 },
    model: modelInfo({ name: 'm', modelType: 'llama', kind, numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 2, hiddenSize: 2, causal: true, untrained: false }),
    source: { text: 'Once upon', ids: [1, 2, 3], tokens, offsetsUtf16: [null, [0, 4], [4, 9]], special: [true, false, false] },
    backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null },
  };
}

const token = (step: number, text: string): GeneratedTokenMessage => ({ type: 'generated-token', runId: 1, step, id: 10 + step, text });

describe('panel generation stepping', () => {
  it('stacks steps into one lower-triangular layer, future keys masked', () => {
    const prompt = stepMessage([[1], [0.4, 0.6]], 0);
    const step1 = stepMessage([[0.2, 0.3, 0.5]], 1);
    const step2 = stepMessage([[0.1, 0.1, 0.2, 0.6]], 2);
    const full = assembleSteps([prompt, step1, step2]);
    assert.deepStrictEqual([full.queryLength, full.keyLength, full.step], [4, 4, undefined]);
    assert.deepStrictEqual(Array.from(full.probs).map((x) => +x.toFixed(3)), [1, 0, 0, 0, 0.4, 0.6, 0, 0, 0.2, 0.3, 0.5, 0, 0.1, 0.1, 0.2, 0.6]);
    assert.strictEqual(assembleSteps([prompt]), prompt);
  });

  it('maps steps to query rows and stacks', () => {
    assert.strictEqual(stepRow('decoder-only', 5, 0), 4);
    assert.strictEqual(stepRow('decoder-only', 5, 3), 7);
    assert.strictEqual(stepRow('encoder-decoder', 5, 3), 3);
    assert.ok(isStepStack('decoder-only', 'self'));
    assert.ok(isStepStack('encoder-decoder', 'cross') && isStepStack('encoder-decoder', 'decoder') && !isStepStack('encoder-decoder', 'encoder'));
  });

  it('reads generated tokens as text and appends them so subwords merge into words', () => {
    assert.strictEqual(tokenPiece('▁there'), ' there');
    assert.strictEqual(tokenPiece('Ġworld'), ' world');
    assert.strictEqual(tokenPiece('<0x0A>'), '\n');
    assert.ok(isSpecialToken('</s>') && isSpecialToken('<|endoftext|>') && !isSpecialToken('<0x0A>') && !isSpecialToken('a<b'));
    const base = startedRun().source;
    const grown = withGenerated(base, [token(0, '▁g'), token(1, 'ir'), token(2, 'l'), token(3, '</s>')]);
    assert.strictEqual(grown.text, 'Once upon girl');
    assert.deepStrictEqual(grown.tokens.slice(3), ['▁g', 'ir', 'l', '</s>']);
    assert.deepStrictEqual(grown.special.slice(3), [false, false, false, true]);
    assert.deepStrictEqual(displayTokens(grown, { hideSpecial: true, mergeWords: true }).labels, ['␣Once', '␣upon', '␣girl']);
    assert.strictEqual(withGenerated(base, []), base);
  });

  it('grows the run by complete steps: a step shows once its token has arrived', () => {
    const run = new StoredRun();
    run.accept(startedRun());
    run.accept({ ...stepMessage([[1], [0.5, 0.5], [0.2, 0.3, 0.5]], 0), runId: 1 });
    assert.strictEqual(run.run.layer('self', 0)!.queryLength, 3, 'step 0 streams in before its token');
    run.accept(token(0, '▁a'));
    run.accept(stepMessage([[0.1, 0.2, 0.3, 0.4]], 1));
    const revision = run.run.revision;
    assert.strictEqual(run.run.layer('self', 0)!.queryLength, 3, 'step 1 waits for its token');
    assert.deepStrictEqual(run.run.sourceTokens()!.tokens, ['<s>', '▁Once', '▁upon']);
    run.accept(token(1, '▁time'));
    assert.notStrictEqual(run.run.revision, revision);
    const full = run.run.layer('self', 0)!;
    assert.deepStrictEqual([full.queryLength, full.keyLength], [4, 4]);
    assert.strictEqual(run.run.layer('self', 0), full, 'cached until the next step');
    assert.strictEqual(run.run.layerData('self', 0), run.run.layerData('self', 0), 'the stacked weights too');
    // The newest token is the step's output, not yet an input.
    assert.deepStrictEqual(run.run.queryTokens('self')!.tokens, ['<s>', '▁Once', '▁upon', '▁a']);
    assert.deepStrictEqual(run.run.generated().map((t) => t.text), ['▁a', '▁time']);
    assert.strictEqual(run.run.layersReceived, 1);
    assert.strictEqual(run.run.stepLayer('self', 0, 1)!.queryLength, 1);
    run.accept({ type: 'run-finished', runId: 1, timings: { tokenizeMs: 0, firstLayerMs: 0, forwardMs: 0 } });
    assert.deepStrictEqual(run.run.messages().map((m) => m.type + ('step' in m ? `:${m.step}` : '')), ['run-started', 'layer:0', 'generated-token:0', 'layer:1', 'generated-token:1', 'run-finished']);
  });

  it('grows an encoder-decoder generation’s decoder tokens from the start token', () => {
    const stored = new StoredRun();
    const run = { accept: (m: Parameters<StoredRun['accept']>[0]) => stored.accept(m) };
    const started = startedRun('encoder-decoder');
    run.accept({ ...started, target: { text: null, ids: [0], tokens: ['<pad>'], offsetsUtf16: [null], special: [true] } });
    run.accept({ ...stepMessage([[1]], 0), stack: 'decoder' });
    run.accept({ ...stepMessage([[0.2, 0.3, 0.5]], 0), stack: 'cross', causal: false });
    run.accept(token(0, '▁Es'));
    run.accept({ ...stepMessage([[0.3, 0.7]], 1), stack: 'decoder' });
    run.accept({ ...stepMessage([[0.6, 0.2, 0.2]], 1), stack: 'cross', causal: false });
    run.accept(token(1, '▁regnet'));
    assert.deepStrictEqual(stored.run.queryTokens('cross')!.tokens, ['<pad>', '▁Es']);
    assert.deepStrictEqual(stored.run.keyTokens('cross')!.tokens, ['<s>', '▁Once', '▁upon']);
    const cross = stored.run.layer('cross', 0)!;
    assert.deepStrictEqual([cross.queryLength, cross.keyLength], [2, 3]);
    assert.deepStrictEqual(Array.from(stored.run.layerData('decoder', 0)!.probs).map((x) => +x.toFixed(2)), [1, 0, 0.3, 0.7]);
  });

  it('folds one step’s row into display keys, leaving out keys the step did not see', () => {
    const layer = { ...stepMessage([[0.1, 0.2, 0.3, 0.4]], 3), numHeads: 1 };
    assert.deepStrictEqual(Array.from(stepRowMatrix(layer, 0, [[0], [1], [2], [3], [4]]).data).map((x) => +x.toFixed(2)), [0.1, 0.2, 0.3, 0.4]);
    assert.deepStrictEqual(Array.from(stepRowMatrix(layer, 0, [[0], [1, 2], [3, 4]]).data).map((x) => +x.toFixed(2)), [0.1, 0.5, 0.4]);
    // Hidden key 0: the row is renormalized over the keys shown.
    assert.deepStrictEqual(Array.from(stepRowMatrix(layer, 0, [[1], [2], [3]]).data).map((x) => +x.toFixed(3)), [0.222, 0.333, 0.444]);
  });

  it('llama-stories260K: the streamed steps assemble to what a full pass over the same tokens computes', async () => {
    const loaded = loadModel(sharedPath('models', 'llama-stories260K'));
    const model = loaded.model.info;
    const text = 'Once upon a time';
    const stored = new StoredRun();
    const take = (m: Parameters<StoredRun['accept']>[0]) => assert.ok(stored.accept(m), m.type);
    const summary = await inspect(loaded, backend, { text, generate: 6 }, {}, {
      onStart: (s) => take(startedMessage(1, { ...s, model, backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null } }, { source: text }, { maxNewTokens: 6 })),
      onEvent: (e) => void (e.type === 'attention' && take({ ...layerMessage(1, e, model), probs: e.probs })),
      onToken: (t) => take(generatedTokenMessage(1, t)),
    });
    const run = stored.run;
    assert.strictEqual(run.generated().length, 6);
    const fed = [...summary.source.ids, ...summary.generated!.ids.slice(0, 5)];
    assert.deepStrictEqual(run.sourceTokens()!.ids, fed);
    const full: AttentionEvent[] = [];
    await inspect(loaded, backend, { ids: fed }, { scores: true }, { onEvent: (e) => void (e.type === 'attention' && full.push(e)) });
    for (const reference of full) {
      const assembled = run.layerData('self', reference.layer)!;
      assert.deepStrictEqual([assembled.queryLength, assembled.keyLength], [fed.length, fed.length]);
      assertClose(assembled.probs, reference.probs, { atol: 1e-5 }, `layer ${reference.layer}`);
    }
  });
});
