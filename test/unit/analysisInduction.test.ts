/**
 * The induction recipe: which tokens it draws, that it finds an ideal induction head in a stand-in model
 * (and a prefix or a decoder start token does not shift it), and that on real models it equals the
 * stripe computed here from an independent forward pass.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import { inductionScores } from '../../src/engine/analysis/induction';
import { drawOrdinaryTokens, leadingSpecialIds } from '../../src/engine/ordinaryTokens';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { isEngineError } from '../../src/engine/errors';
import { LoadedModel, loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent, ForwardRequest, TransformerModel } from '../../src/engine/model';
import type { AttentionStack, ModelInfo } from '../../src/protocol/run';
import type { TextTokenizer } from '../../src/engine/tokenizer';
import { sharedPath } from '../helpers/shared';
import { assertNumbersClose } from './analysisTestData';

const backend = new ReferenceBackend();
const model = (name: string) => loadModel(sharedPath('models', name));

/** The ids tokenizer.json marks special, and its byte-fallback pieces, read here without the engine. */
function excludedIds(name: string): Set<number> {
  const file = JSON.parse(fs.readFileSync(sharedPath('models', name, 'tokenizer.json'), 'utf8'));
  const bytePieces = Object.entries<number>(Array.isArray(file.model.vocab) ? {} : file.model.vocab).filter(([piece]) => /^<0x..>$/.test(piece)).map(([, id]) => id);
  return new Set([...file.added_tokens.filter((t: { special: boolean }) => t.special).map((t: { id: number }) => t.id), ...bytePieces]);
}

describe('analysis: ordinary tokens for the induction recipe', () => {
  for (const name of ['llama-stories260K', 'bert-tiny-random', 't5-tiny-random', 'bart-tiny-random', 'gpt2-tiny-random']) {
    it(`${name}: distinct, seeded, in the vocabulary, never special or a byte piece`, async () => {
      const loaded = model(name);
      const ids = await drawOrdinaryTokens(loaded, 50, 7);
      assert.strictEqual(new Set(ids).size, 50);
      const excluded = excludedIds(name);
      for (const id of ids) {
        assert.ok(id >= 0 && id < loaded.model.info.vocabSize, `${id} is outside the vocabulary`);
        assert.ok(!excluded.has(id), `${id} (${loaded.tokenizer!.idToToken(id)}) is special or a byte piece`);
        assert.match(await loaded.tokenizer!.decode([id]), /\S/u, `${id} decodes to visible text`);
      }
      assert.deepStrictEqual(await drawOrdinaryTokens(loaded, 50, 7), ids, 'the same seed draws the same tokens');
      assert.notDeepStrictEqual(await drawOrdinaryTokens(loaded, 50, 8), ids, 'another seed draws others');
    });
  }

  it('a model without a tokenizer draws any id; too few of them is an error that says so', async () => {
    const loaded = model('gpt2-sort');
    assert.deepStrictEqual((await drawOrdinaryTokens(loaded, 3, 1)).sort(), [0, 1, 2]);
    await assert.rejects(drawOrdinaryTokens(loaded, 4, 1), /only 3 ordinary tokens; the induction recipe needs 4/);
    await assert.rejects(drawOrdinaryTokens(loadModel('demo'), 4, 1), /demo model builds its vocabulary from the text/);
  });

  it('the prefix is what the tokenizer puts before text', async () => {
    const prefixes = await Promise.all(['llama-stories260K', 'bert-tiny-random', 't5-tiny-random', 'bart-tiny-random', 'gpt2-tiny-random', 'gpt2-sort'].map((name) => leadingSpecialIds(model(name))));
    assert.deepStrictEqual(prefixes, [[1], [2], [], [0], [], []]);
  });
});

/** Row i attends to the token after the latest earlier copy of its own token (to position 0 when there is none). */
function idealInductionRows(ids: readonly number[]): Float32Array {
  const T = ids.length;
  const probs = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    let target = 0;
    for (let j = i - 1; j >= 0; j--) if (ids[j] === ids[i] && j + 1 < i) { target = j + 1; break; }
    probs[i * T + target] = 1;
  }
  return probs;
}

/** Head 0 an ideal induction head, head 1 a previous-token head. */
function standInAttention(kind: AttentionStack, ids: readonly number[]): AttentionEvent {
  const T = ids.length;
  const previous = new Float32Array(T * T);
  for (let i = 0; i < T; i++) previous[i * T + Math.max(0, i - 1)] = 1;
  const probs = new Float32Array(2 * T * T);
  probs.set(idealInductionRows(ids));
  probs.set(previous, T * T);
  return { type: 'attention', stack: kind, layer: 0, numHeads: 2, numKvHeads: 2, headDim: 1, queryLength: T, keyLength: T, probs,
    recipe: { scale: 1, scaleSource: 'head_dim', causal: true } };
}

/** A stand-in model (decoder-only or encoder-decoder) and, optionally, a tokenizer that puts BOS = 1 before text. */
function standIn(kind: 'decoder-only' | 'encoder-decoder', withBos: boolean): LoadedModel {
  const info: ModelInfo = {
    name: 'stand-in', modelType: 'stand-in', kind, numLayers: 1, numHeads: 2, numKvHeads: 2, headDim: 1, hiddenSize: 2, vocabSize: 300,
    maxPositions: 200, causal: true, crossAttention: kind === 'encoder-decoder', decoderStartTokenId: kind === 'encoder-decoder' ? 0 : undefined,
    eosTokenIds: [], untrained: true,
  };
  const standInModel: TransformerModel = {
    info,
    releaseWeights: () => undefined,
    async *forward(_backend, request: ForwardRequest) {
      yield standInAttention(request.decoderIds ? 'encoder' : 'self', request.ids);
      if (request.decoderIds) yield standInAttention('decoder', request.decoderIds);
    },
  };
  const tokenizer: TextTokenizer = {
    encode: async () => ({ ids: [1, 50], tokens: ['<s>', 'a'], offsetsUtf16: [null, [0, 1]], special: [true, false] }),
    decode: async (ids) => ids.map((id) => `w${id}`).join(' '),
    idToToken: (id) => `w${id}`,
  };
  return { model: standInModel, tokenizer: withBos ? tokenizer : undefined, source: '/nonexistent/stand-in' };
}

describe('analysis: the induction recipe', () => {
  for (const withBos of [true, false]) {
    it(`finds an ideal induction head and not a previous-token head (${withBos ? 'BOS + R + R' : 'R + R, no BOS'})`, async () => {
      const run = await inductionScores(standIn('decoder-only', withBos), backend, { n: 20, seed: 3 });
      assert.strictEqual(run.ids.length, 40 + (withBos ? 1 : 0));
      const random = run.ids.slice(withBos ? 1 : 0, withBos ? 21 : 20);
      assert.deepStrictEqual(run.ids, [...(withBos ? [1] : []), ...random, ...random]);
      assertNumbersClose(run.scores.self![0], [1, 0], 'head scores');
    });
  }

  it('an encoder-decoder: the encoder reads prefix + R + R, the decoder start + R + R, and both are scored', async () => {
    const run = await inductionScores(standIn('encoder-decoder', true), backend, { n: 10, seed: 4 });
    const random = run.ids.slice(1, 11);
    assert.deepStrictEqual(run.decoderIds, [0, ...random, ...random]);
    assertNumbersClose(run.scores.encoder![0], [1, 0], 'encoder heads');
    assertNumbersClose(run.scores.decoder![0], [1, 0], 'decoder heads');
  });

  it('a position limit shorter than the recipe is an error naming the N that fits', async () => {
    await assert.rejects(inductionScores(model('gpt2-sort'), backend, { n: 6 }), (err: unknown) => isEngineError(err) && err.code === 'TOO_MANY_TOKENS' && /at most 11; use N ≤ 5/.test(err.message));
    await assert.rejects(inductionScores(model('gpt2-sort'), backend, { n: 0 }), /positive whole number/);
  });

  /** mean over the second copy of A[i, i − N + 1], per head, from attention computed here. */
  function stripe(event: AttentionEvent, n: number, prefix: number): number[] {
    const T = event.keyLength;
    return Array.from({ length: event.numHeads }, (_, h) => {
      let sum = 0;
      for (let i = prefix + n; i < prefix + 2 * n; i++) sum += event.probs[(h * T + i) * T + (i - n + 1)];
      return sum / n;
    });
  }

  for (const name of ['llama-stories260K', 'bert-tiny-random', 't5-tiny-random', 'bart-tiny-random']) {
    it(`${name}: the scores equal the stripe of an independent forward pass`, async () => {
      const loaded = model(name);
      const run = await inductionScores(loaded, backend, { n: 30, seed: 11 });
      const prefix = (await leadingSpecialIds(loaded)).length;
      const random = run.ids.slice(prefix, prefix + 30);
      const decoderIds = run.decoderIds && [loaded.model.info.decoderStartTokenId!, ...random, ...random];
      assert.deepStrictEqual(run.decoderIds, decoderIds);
      let stacks = 0;
      for await (const event of loaded.model.forward(backend, { ids: run.ids, decoderIds, wants: {} })) {
        if (event.type !== 'attention' || event.stack === 'cross') continue;
        assertNumbersClose(run.scores[event.stack]![event.layer], stripe(event, 30, event.stack === 'decoder' ? 1 : prefix), `${event.stack} layer ${event.layer}`, 1e-6);
        stacks++;
      }
      assert.strictEqual(stacks, loaded.model.info.numLayers * (decoderIds ? 2 : 1));
    });
  }
});
