/**
 * ForwardWants.packedProbabilities: causal layers come as packed rows (protocol/packing.ts), read
 * straight from the WebAssembly backend's memory or packed after the read elsewhere; every other layer
 * comes whole. On every backend the packed rows are exactly the full layer's visible keys, for a
 * decoder-only model, an encoder-decoder (decoder packed; encoder and cross whole) and generation steps
 * over a cache; and the run store, given packed rows, gives back the full layer.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Backend } from '../../src/engine/backend';
import { type InspectInput, inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent } from '../../src/engine/model';
import { isCausalStack, packLayer } from '../../src/protocol/packing';
import { RunStore } from '../../src/store/runStore';
import { layerMessage } from '../../src/store/runMessages';
import { testBackends } from '../helpers/backends';
import { sharedPath } from '../helpers/shared';

const TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';
const CASES: { model: string; input: InspectInput }[] = [
  { model: 'llama-stories260K', input: { text: TEXT } },
  { model: 't5-tiny-random', input: { text: TEXT, targetText: 'Es war einmal ein Mädchen' } },
  { model: 'gpt2-tiny-random', input: { text: TEXT, generate: 3 } },
];

async function events(backend: Backend, model: string, input: InspectInput, packed: boolean): Promise<AttentionEvent[]> {
  const out: AttentionEvent[] = [];
  await inspect(loadModel(sharedPath('models', model)), backend, input, { packedProbabilities: packed }, { onEvent: (e) => void (e.type === 'attention' && out.push(e)) });
  return out;
}

describe('packed probabilities', function () {
  this.timeout(120000);
  for (const b of testBackends()) {
    describe(b.name, () => {
      let backend: Backend;
      before(async () => (backend = await b.create()));
      after(() => backend?.dispose());

      for (const c of CASES) {
        it(`${c.model}${c.input.generate ? ', generating' : ''}: causal layers packed exactly, the others whole`, async () => {
          const causalModel = loadModel(sharedPath('models', c.model)).model.info.causal;
          const full = await events(backend, c.model, c.input, false);
          const packed = await events(backend, c.model, c.input, true);
          assert.strictEqual(packed.length, full.length);
          let packedLayers = 0;
          packed.forEach((e, i) => {
            const shape = { numHeads: e.numHeads, queryLength: e.queryLength, keyLength: e.keyLength, causal: isCausalStack(e.stack, causalModel) };
            const what = `${e.stack} layer ${e.layer}${e.step === undefined ? '' : ` step ${e.step}`}`;
            assert.strictEqual(!!e.packed, shape.causal, `${what}: packed exactly when causal`);
            assert.deepStrictEqual(e.probs, packLayer(full[i].probs, shape), what);
            if (e.packed && e.queryLength > 1) packedLayers++;
          });
          assert.ok(packedLayers > 0, 'some layers were packed');
        });
      }

      it('the run store takes packed rows and gives back the full layer', async () => {
        const model = loadModel(sharedPath('models', 'llama-stories260K')).model.info;
        const full = await events(backend, 'llama-stories260K', { text: TEXT }, false);
        const packed = await events(backend, 'llama-stories260K', { text: TEXT }, true);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packed-store-'));
        const store = new RunStore(dir);
        try {
          packed.forEach((e) => store.write(layerMessage(1, e, model), e.probs, undefined, e.packed));
          await store.flushed();
          full.forEach((e) => assert.deepStrictEqual(store.tensors(layerMessage(1, e, model))?.probs, e.probs, `layer ${e.layer}`));
          assert.throws(() => store.write(layerMessage(1, full[0], model), full[0].probs, undefined, true), /packed values/);
        } finally {
          store.dispose();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
