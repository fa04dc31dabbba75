/**
 * Compact probabilities (ForwardWants.probabilityFormat 'f16') on every CPU backend: the half-precision
 * bits decode to the float32 probabilities of a normal run, rounded to nearest, and `probs` is empty.
 */
import * as assert from 'assert';
import type { Backend } from '../../src/engine/backend';
import { toFloat16Bits } from '../../src/engine/cpu/reference';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent, ForwardWants } from '../../src/engine/model';
import { cpuBackends } from '../helpers/cpuBackends';
import { sharedPath } from '../helpers/shared';

async function attentionEvents(backend: Backend, wants: ForwardWants): Promise<AttentionEvent[]> {
  const loaded = loadModel(sharedPath('models', 'qwen2-tiny-random'));
  const events: AttentionEvent[] = [];
  const ids = Array.from({ length: 37 }, (_, i) => (i * 31) % 1000);
  await inspect(loaded, backend, { ids }, wants, { onEvent: (e) => void (e.type === 'attention' && events.push(e)) });
  return events;
}

for (const entry of cpuBackends()) {
  describe(`float16 probabilities on ${entry.name}`, () => {
    let backend: Backend;
    before(async () => {
      backend = await entry.create();
    });
    after(() => backend?.dispose());

    it('are the float32 probabilities rounded to half precision', async () => {
      const full = await attentionEvents(backend, {});
      const half = await attentionEvents(backend, { probabilityFormat: 'f16' });
      assert.strictEqual(half.length, full.length);
      half.forEach((event, layer) => {
        assert.strictEqual(event.probs.length, 0, 'probs is empty when f16 is asked for');
        assert.ok(event.probsF16, 'probsF16 is present');
        assert.deepStrictEqual(event.probsF16, toFloat16Bits(full[layer].probs), `layer ${layer}`);
      });
    });
  });
}
