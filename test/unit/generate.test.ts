/**
 * Greedy generation with the key/value cache must agree with recomputing everything from scratch:
 * the same tokens, and each step's attention row equal to the last row of a full forward pass.
 */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { generate, TokenEvent } from '../../src/engine/generate';
import { inspect } from '../../src/engine/inspect';
import { LoadedModel, loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent, ForwardEvent } from '../../src/engine/model';
import { assertClose } from '../helpers/compare';
import { sharedPath } from '../helpers/shared';

const backend = new ReferenceBackend();

async function collect(stream: AsyncGenerator<ForwardEvent | TokenEvent>) {
  const tokens: number[] = [];
  const attention: AttentionEvent[] = [];
  for await (const e of stream) {
    if (e.type === 'token') tokens.push(e.id);
    if (e.type === 'attention') attention.push(e);
  }
  return { tokens, attention };
}

/** Attention of a full, cache-free pass, keyed like "decoder.1". */
async function fullPass(loaded: LoadedModel, ids: readonly number[], targetIds?: readonly number[]): Promise<Map<string, AttentionEvent>> {
  const out = new Map<string, AttentionEvent>();
  await inspect(loaded, backend, { ids, targetIds }, {}, { onEvent: (e) => void (e.type === 'attention' && out.set(`${e.stack}.${e.layer}`, e)) });
  return out;
}

/** Row `row` of every head of a [H, Tq, Tk] matrix over its first `keys` keys, flattened [H, keys]. */
function lastRows(e: AttentionEvent, row: number, keys = e.keyLength): Float32Array {
  const out = new Float32Array(e.numHeads * keys);
  for (let h = 0; h < e.numHeads; h++) {
    const at = (h * e.queryLength + row) * e.keyLength;
    out.set(e.probs.subarray(at, at + keys), h * keys);
  }
  return out;
}

describe('generation', () => {
  it('llama: cached greedy steps equal full recomputation', async () => {
    const loaded = loadModel(sharedPath('models', 'llama-stories260K'));
    const prompt = (await loaded.tokenizer!.encode('Once upon a time')).ids;
    const { tokens, attention } = await collect(generate(loaded.model, backend, { ids: prompt, maxNewTokens: 6, wants: {} }));
    assert.strictEqual(tokens.length, 6);
    const text = await loaded.tokenizer!.decode([...prompt, ...tokens]);
    assert.match(text, /^<s> Once upon a time/);
    for (let step = 1; step < tokens.length; step++) {
      const sequence = [...prompt, ...tokens.slice(0, step)];
      const full = await fullPass(loaded, sequence);
      for (const e of attention.filter((a) => a.step === step)) {
        assert.strictEqual(e.queryLength, 1);
        assert.strictEqual(e.keyLength, sequence.length);
        assertClose(lastRows(e, 0), lastRows(full.get(`self.${e.layer}`)!, sequence.length - 1), { atol: 1e-5 }, `step ${step} layer ${e.layer}`);
      }
    }
  });

  it('gpt2: positions continue after the cache', async () => {
    const loaded = loadModel(sharedPath('models', 'gpt2-sort'));
    // The sort model completes six digits with their sorted order.
    const { tokens } = await collect(generate(loaded.model, backend, { ids: [2, 0, 1, 1, 0, 2], maxNewTokens: 5, wants: {} }));
    assert.deepStrictEqual(tokens, [0, 0, 1, 1, 2]);
  });

  for (const model of ['t5-tiny-random', 'bart-tiny-random']) {
    it(`${model}: cached decoder and cross attention equal teacher forcing on the generated target`, async () => {
      const loaded = loadModel(sharedPath('models', model));
      const source = (await loaded.tokenizer!.encode('那天雨很大')).ids;
      const { tokens, attention } = await collect(generate(loaded.model, backend, { ids: source, maxNewTokens: 5, wants: {} }));
      assert.ok(tokens.length >= 1);
      const start = loaded.model.info.decoderStartTokenId!;
      // Teacher forcing on labels = generated tokens reads [start, tokens[:-1]]: the same decoder inputs.
      const full = await fullPass(loaded, source, tokens);
      for (const e of attention.filter((a) => a.stack !== 'encoder')) {
        const fullEvent = full.get(`${e.stack}.${e.layer}`)!;
        assert.strictEqual(e.queryLength, 1);
        assertClose(lastRows(e, 0), lastRows(fullEvent, e.step!, e.keyLength), { atol: 1e-5 }, `${e.stack} step ${e.step} layer ${e.layer}`);
      }
      assert.strictEqual(attention.filter((a) => a.stack === 'encoder').length, 2, 'the encoder runs once');
      assert.ok(start >= 0);
    });
  }

  it('refuses models that cannot generate', async () => {
    await assert.rejects(collect(generate(loadModel('demo').model, backend, { ids: [0], maxNewTokens: 2, wants: {} })), /no language-model head/);
    await assert.rejects(collect(generate(loadModel(sharedPath('models', 'bert-tiny-random')).model, backend, { ids: [2, 3], maxNewTokens: 2, wants: {} })), /only decoder/);
  });
});
