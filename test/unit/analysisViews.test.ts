/**
 * What the analysis views are answered with (DataService over the host's AnalysisStore), on hand-made
 * runs whose answers are known: sinks found and hidden in every view, head scores, rollout against its
 * closed form, value weighting applied before both, and the extra passes' results passed through.
 */
import * as assert from 'assert';
import type { DataReply, HeadScoresReply, RolloutReply, WeightOptions } from '../../src/protocol/data';
import type { LayerMessage, PanelTokens, RunStarted } from '../../src/protocol/messages';
import { AnalysisStore, type ExtraPasses } from '../../src/store/analysisStore';
import { DataService, fromWire } from '../../src/view-model/dataService';
import { RAW_WEIGHTS } from '../../src/view-model/weighting';
import { modelInfo } from '../helpers/modelInfo';
import { StoredRun, type LayerWithData } from '../helpers/storedRun';

function tokens(n: number): PanelTokens {
  return { text: null, ids: Array.from({ length: n }, (_, i) => 10 + i), tokens: Array.from({ length: n }, (_, i) => `t${i}`), offsetsUtf16: Array(n).fill(null), special: Array(n).fill(false) };
}

function started(layers: number, heads: number, n: number): RunStarted {
  const model = modelInfo({ name: 'm', modelType: 'llama', kind: 'decoder-only', numLayers: layers, numHeads: heads, numKvHeads: heads, headDim: 4, hiddenSize: 8, causal: true, untrained: false });
  return { type: 'run-started', runId: 1, model, source: tokens(n), backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null } };
}

/** A causal layer from probs[h][i][j], with value norms [h][j] when given. */
function layer(index: number, probs: number[][][], norms?: number[][]): LayerWithData {
  const n = probs[0].length;
  const shape: LayerMessage = { type: 'layer', runId: 1, stack: 'self', layer: index, numHeads: probs.length, numKvHeads: probs.length, headDim: 4, queryLength: n, keyLength: n, causal: true };
  return { ...shape, probs: new Float32Array(probs.flat(2)), ...(norms && { valueNorms: new Float32Array(norms.flat()) }) };
}

function service(messages: (RunStarted | LayerWithData)[], passes?: ExtraPasses): DataService {
  const stored = new StoredRun(messages);
  stored.run.accept({ type: 'run-finished', runId: 1, timings: { tokenizeMs: 0, firstLayerMs: 0, forwardMs: 0 } });
  const data = new DataService(stored.run);
  data.analysis = new AnalysisStore(stored.run, passes);
  return data;
}

const VALUE_WEIGHTED: WeightOptions = { valueWeighted: true, hideSinks: false };
const SINKS_HIDDEN: WeightOptions = { valueWeighted: false, hideSinks: true };

const close = (actual: ArrayLike<number>, expected: readonly number[], what: string) =>
  assert.deepStrictEqual(Array.from(actual, (x) => Math.round(x * 1e4) / 1e4), expected.map((x) => Math.round(x * 1e4) / 1e4), what);

async function ask<K extends DataReply['kind']>(data: DataService, query: Parameters<DataService['answer']>[0], kind: K): Promise<Extract<DataReply, { kind: K }>> {
  const reply = await data.answer(query);
  assert.ok(reply && reply.kind === kind, `a ${kind} reply`);
  return reply as Extract<DataReply, { kind: K }>;
}

/** Rows 1 and 2 put 0.6 of both heads' mass on position 0: a sink in every head. */
const SINKY = layer(0, [
  [[1, 0, 0], [0.6, 0.4, 0], [0.6, 0.1, 0.3]],
  [[1, 0, 0], [0.6, 0.4, 0], [0.6, 0.3, 0.1]],
], [[1, 2, 4], [1, 1, 1]]);

describe('analysis views: what DataService answers from the run', () => {
  it('finds the sink and hides it in the view matrices, rows renormalised over what is left', async () => {
    const data = service([started(1, 2, 3), SINKY]);
    assert.deepStrictEqual((await ask(data, { kind: 'sinks', stack: 'self' }, 'sinks')).sinks, [{ position: 0, headFraction: 1 }]);
    const base = { kind: 'view' as const, stack: 'self' as const, layer: 0, layerReduction: 'single' as const, headMode: 'each' as const, heads: [0, 1], hideSpecial: false, mergeWords: false, compare: false };
    const hidden = fromWire((await ask(data, { ...base, ...SINKS_HIDDEN }, 'view')).matrices).matrices;
    // Row 0 was all sink: zeros. Row 1 → [0, 1, 0]; row 2 of head 0 → [0, 0.25, 0.75].
    close(hidden.data.subarray(0, 9), [0, 0, 0, 0, 1, 0, 0, 0.25, 0.75], 'head 0, sink hidden');
    // Value-weighted by head 0's norms 1, 2, 4: row 2 [0.6, 0.2, 1.2] / 2.
    const weighted = fromWire((await ask(data, { ...base, ...VALUE_WEIGHTED }, 'view')).matrices).matrices;
    close(weighted.data.subarray(6, 9), [0.3, 0.1, 0.6], 'head 0 row 2, value-weighted');
    close(weighted.data.subarray(15, 18), [0.6, 0.3, 0.1], 'head 1 (norms all 1) unchanged');
  });

  it('scores every head from the weighted attention', async () => {
    // Head 0 looks at the previous token (the first at itself), head 1 at itself.
    const data = service([started(1, 2, 3), layer(0, [[[1, 0, 0], [1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]], [[1, 1, 1], [1, 1, 1]])]);
    const scores: HeadScoresReply = await ask(data, { kind: 'head-scores', stack: 'self', ...RAW_WEIGHTS }, 'head-scores');
    assert.deepStrictEqual([scores.layers, scores.heads], [1, 2]);
    const previous = scores.scores.find((s) => s.name === 'previous_token')!;
    close(previous.values, [1, 0], 'previous-token');
    close(scores.scores.find((s) => s.name === 'first_token')!.values, [2 / 3, 1 / 3], 'first-token share');
    // With the sink hidden, what is left of head 0's row 1 is nothing: first-token share 0 everywhere.
    const sinky = service([started(1, 2, 3), SINKY]);
    const hidden = await ask(sinky, { kind: 'head-scores', stack: 'self', ...SINKS_HIDDEN }, 'head-scores');
    close(hidden.scores.find((s) => s.name === 'first_token')!.values, [0, 0], 'first-token share, sink hidden');
  });

  it('rollout: the closed form on 3 tokens, and value weighting applied to each layer first', async () => {
    const layers = [
      layer(0, [[[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]]], [[1, 1, 1]]),
      layer(1, [[[1, 0, 0], [1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]], [[1, 1, 1], [1, 1, 1]]),
    ];
    const data = service([started(2, 1, 3), layers[0], { ...layers[1], numHeads: 2, numKvHeads: 2 }]);
    const query = { kind: 'rollout' as const, stack: 'self' as const, hideSpecial: false, mergeWords: false };
    const rollout: RolloutReply = await ask(data, { ...query, ...RAW_WEIGHTS }, 'rollout');
    close(fromWire(rollout.matrix!).matrices.data, [1, 0, 0, 7 / 16, 9 / 16, 0, 3 / 16, 5 / 16, 1 / 2], 'R = Â₂·Â₁');
    // Norms all 1: value weighting changes nothing.
    close(fromWire((await ask(data, { ...query, ...VALUE_WEIGHTED }, 'rollout')).matrix!).matrices.data, [1, 0, 0, 7 / 16, 9 / 16, 0, 3 / 16, 5 / 16, 1 / 2], 'norms of 1');
    // One layer, norms 1 and 3: row 1 [0.5, 0.5] weighs to [0.25, 0.75], and Â = ½·A' + ½·I.
    const one = service([started(1, 1, 2), layer(0, [[[1, 0], [0.5, 0.5]]], [[1, 3]])]);
    close(fromWire((await ask(one, { ...query, ...RAW_WEIGHTS }, 'rollout')).matrix!).matrices.data, [1, 0, 0.25, 0.75], 'one layer');
    close(fromWire((await ask(one, { ...query, ...VALUE_WEIGHTED }, 'rollout')).matrix!).matrices.data, [1, 0, 0.125, 0.875], 'one layer, value-weighted');
  });

  it('sinks asked for as every layer arrives (the toolbar does): each layer read and scored once', async () => {
    const stored = new StoredRun([started(6, 2, 3)]);
    const reads = new Map<string, number>();
    const tensors = stored.tensors.tensors.bind(stored.tensors);
    stored.tensors.tensors = (l) => (reads.set(`${l.layer}`, (reads.get(`${l.layer}`) ?? 0) + 1), tensors(l));
    const analysis = new AnalysisStore(stored.run);
    for (let l = 0; l < 6; l++) {
      stored.accept({ ...SINKY, layer: l });
      assert.deepStrictEqual(analysis.sinks('self'), [{ position: 0, headFraction: 1 }], `after layer ${l}`);
    }
    const scores = await analysis.headScores('self', RAW_WEIGHTS);
    assert.strictEqual(scores?.layers, 6);
    // Once, for the sinks as it arrived; the raw scores reuse those roles (every layer was read again
    // for each later layer before: 7 reads of layer 0).
    assert.deepStrictEqual([...reads.values()], [1, 1, 1, 1, 1, 1], 'reads per layer');
  });

  it('says why value weighting cannot be shown for a run without value norms', async () => {
    const data = service([started(1, 1, 2), layer(0, [[[1, 0], [0.5, 0.5]]])]);
    assert.match((await ask(data, { kind: 'head-scores', stack: 'self', ...VALUE_WEIGHTED }, 'head-scores')).unavailable ?? '', /no value norms/);
    assert.strictEqual((await ask(data, { kind: 'head-scores', stack: 'self', ...RAW_WEIGHTS }, 'head-scores')).unavailable, undefined);
  });

  it('scores the induction recipe’s run, and passes the logit lens through', async () => {
    // prefix 1 + R + R with N = 2: head 0 attends to i − N + 1 in the second copy, head 1 to itself.
    const n = 2, size = 5;
    const probs = [0, 1].map((h) => Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => +(h === 0 && i >= 3 ? j === i - n + 1 : j === i))));
    const passes: ExtraPasses = {
      induction: async () => ({ n, seed: 7, prefix: { self: 1 }, layers: { self: [{ ...layer(0, probs, [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]) }] } }),
      logitLens: async () => ({ kind: 'logit-lens', unavailable: 'not this time' }),
    };
    const data = service([started(1, 2, 3), SINKY], passes);
    const induction = await ask(data, { kind: 'induction', stack: 'self', ...RAW_WEIGHTS }, 'induction');
    assert.deepStrictEqual([Array.from(induction.values!), induction.n, induction.seed], [[1, 0], 2, 7]);
    assert.match((await ask(data, { kind: 'induction', stack: 'cross', ...RAW_WEIGHTS }, 'induction')).unavailable ?? '', /no induction stripe/);
    assert.deepStrictEqual(await data.answer({ kind: 'logit-lens' }), { kind: 'logit-lens', unavailable: 'not this time' });
    assert.match((await ask(service([started(1, 2, 3), SINKY]), { kind: 'logit-lens' }, 'logit-lens')).unavailable ?? '', /without the logit lens/);
  });
});
