/**
 * The engine against Hugging Face transformers: every fixture case in ../shared (decoder-only,
 * encoder-only and encoder-decoder with teacher forcing), on every backend, within the case's per-tensor tolerance. Masked score positions are
 * checked separately: exactly the reference's masked set, and -Infinity in ours.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import type { Backend } from '../../src/engine/backend';
import { inspect } from '../../src/engine/inspect';
import { LoadedModel, loadModel } from '../../src/engine/loadModel';
import { tensorName } from '../../src/engine/model';
import { NamedTensor } from '../../src/engine/loader/safetensors';
import { testBackends } from '../helpers/backends';
import { assertClose } from '../helpers/compare';
import { fixtureCases, readReference } from '../helpers/shared';

export const FIXTURE_MODELS = [
  'gpt2-sort', 'gpt2-tiny-random', 'gpt2-tiny-random-f16', 'llama-stories260K',
  'qwen2-tiny-random', 'qwen2-tiny-random-f16', 'qwen2-tiny-random-bf16', 'bert-tiny-random',
  't5-tiny-random', 'bart-tiny-random',
  'qwen3-tiny-random', 'mistral-tiny-random', 'llama3-rope-tiny-random', 'gemma2-tiny-random', 'gemma3-tiny-random',
  'gptneox-tiny-random', 'phi3-tiny-random', 'olmo2-tiny-random',
];
const REFERENCE_MASK = -1e9;

/** The key of atol_hint_by_tensor for a tensor name: its family (scores.0 is its own). */
function family(name: string): string {
  return name === 'scores.0' ? name : name.replace(/\.\d+$/, '');
}

/** Runs a fixture's inputs: ids, plus the labels for encoder-decoder cases (teacher forcing). */
export async function runCase(loaded: LoadedModel, backend: Backend, meta: { input_ids: number[]; labels?: number[] }): Promise<Map<string, NamedTensor>> {
  const produced = new Map<string, NamedTensor>();
  const put = (name: string, shape: number[], data: Float32Array) => produced.set(name, { name, shape, data });
  const input = { ids: meta.input_ids, targetIds: meta.labels };
  await inspect(loaded, backend, input, { scores: true, hiddenStates: true, logits: true }, {
    onEvent: (e) => {
      if (e.type === 'attention') {
        const shape = [e.numHeads, e.queryLength, e.keyLength];
        put(tensorName(e), shape, e.probs);
        if (e.scores) put(tensorName(e, 'scores'), shape, e.scores);
      } else if (e.type === 'hidden' || e.type === 'logits') {
        put(tensorName(e), [e.rows, e.cols], e.data);
      }
    },
  });
  return produced;
}

for (const backendEntry of testBackends()) {
  describe(`fixtures on ${backendEntry.name}`, function () {
    let backend: Backend;
    const models = new Map<string, LoadedModel>();
    before(async () => {
      backend = await backendEntry.create();
    });
    after(() => backend?.dispose());

    for (const fixture of fixtureCases(FIXTURE_MODELS)) {
      it(`${fixture.model} / ${fixture.case}`, async () => {
        const meta = JSON.parse(fs.readFileSync(fixture.json, 'utf8'));
        let loaded = models.get(fixture.model);
        if (!loaded) models.set(fixture.model, (loaded = loadModel(fixture.modelDir)));
        const reference = readReference(fixture.safetensors);
        const produced = await runCase(loaded, backend, meta);
        for (const [name, ref] of reference) {
          const ours = produced.get(name);
          assert.ok(ours, `${name} was not produced`);
          assert.deepStrictEqual(ours.shape, ref.shape, `${name} shape`);
          const atol = meta.atol_hint_by_tensor[family(name)];
          assert.ok(typeof atol === 'number', `no tolerance for ${name}`);
          if (name.startsWith('scores.')) {
            for (let i = 0; i < ref.data.length; i++) {
              const refMasked = ref.data[i] <= REFERENCE_MASK;
              if (refMasked !== (ours.data[i] === -Infinity)) assert.fail(`${name}: mask differs at flat index ${i} (reference ${ref.data[i]}, ours ${ours.data[i]})`);
            }
            assertClose(ours.data, ref.data, { atol }, name, (i) => ref.data[i] <= REFERENCE_MASK);
          } else {
            assertClose(ours.data, ref.data, { atol }, name);
          }
        }
        if (meta.argmax_logits) {
          const logits = produced.get('logits')!;
          const vocab = logits.shape[1];
          const argmax = meta.argmax_logits.map((_: number, t: number) => {
            const row = logits.data.subarray(t * vocab, (t + 1) * vocab);
            return row.indexOf(Math.max(...row));
          });
          assert.deepStrictEqual(argmax, meta.argmax_logits, 'argmax of logits');
        }
      });
    }
  });
}
