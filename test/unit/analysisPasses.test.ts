/**
 * The extra passes run on what the panel shows: the same ids, and past the model's trained context
 * when the run was (a 1,024-token run of a 512-position model showed "too many tokens" in its logit
 * lens before the pass carried the permission along).
 */
import * as assert from 'assert';
import type { InspectRequest, InspectResult } from '../../src/engine/worker/engineClient';
import { enginePasses, shownInput } from '../../src/store/analysisPasses';
import { modelInfo } from '../helpers/modelInfo';

const decoder = modelInfo({ name: 'm', modelType: 'llama', kind: 'decoder-only', numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 4, hiddenSize: 4, causal: true, untrained: false });
const seq2seq = { ...decoder, kind: 'encoder-decoder' as const };

function request(pastContext?: boolean): InspectRequest {
  return { model: 'folder', backend: 'cpu', input: { text: 'x', pastContext }, wants: {} };
}

function result(fields: Partial<InspectResult>): InspectResult {
  return { model: decoder, source: { ids: [1, 2, 3] }, ...fields } as unknown as InspectResult;
}

describe('analysis passes: the input they run on', () => {
  it('a plain run: its ids, past the context only when the run was', () => {
    assert.deepStrictEqual(shownInput(request(true), result({}), 0), { ids: [1, 2, 3], targetIds: undefined, pastContext: true });
    assert.strictEqual(shownInput(request(), result({}), 0).pastContext, undefined);
  });

  it('a generation: the prompt and the tokens shown so far (decoder), or them as labels (encoder-decoder)', () => {
    const generated = { ids: [7, 8, 9] } as unknown as InspectResult['generated'];
    assert.deepStrictEqual(shownInput(request(true), result({ generated }), 2), { ids: [1, 2, 3, 7], pastContext: true });
    assert.deepStrictEqual(shownInput(request(true), result({ model: seq2seq, generated }), 2), { ids: [1, 2, 3], targetIds: [7, 8], pastContext: true });
  });

  it('the logit lens pass asks the engine for exactly that input', async () => {
    const asked: InspectRequest[] = [];
    const engine = { inspect: async (r: InspectRequest) => (asked.push(r), result({})) };
    const req = request(true);
    const reply = await enginePasses(() => engine, req, decoder, () => shownInput(req, result({}), 0)).logitLens();
    assert.strictEqual(asked.length, 1);
    assert.deepStrictEqual(asked[0].input, { ids: [1, 2, 3], targetIds: undefined, pastContext: true });
    assert.deepStrictEqual(asked[0].wants, { logitLens: { top: 5 } });
    assert.match(reply.unavailable ?? '', /gave no logit lens/); // the stub sent no lens events
  });
});
