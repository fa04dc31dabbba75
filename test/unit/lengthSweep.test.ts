/**
 * The whole model at every length that crosses a kernel block: llama-stories260K (trained, so its
 * attention is peaked) on real text, T = 1…20 and each multiple of 16 up to 512 with its neighbours
 * (the WebAssembly 4×8 tiles, 16-query tasks and 64-row gemm blocks; the WebGPU 4-query workgroups,
 * 64-key passes and 16/64-row matmul tiles). Every backend against the JavaScript reference, every
 * layer and head. The WebAssembly backends start fresh at each length, as a user's first run does:
 * how far their memory has grown decides which ops cross a growth.
 */
import * as fs from 'fs';
import type { Backend } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { LoadedModel, loadModel } from '../../src/engine/loadModel';
import { testBackends } from '../helpers/backends';
import { assertClose } from '../helpers/compare';
import { sharedPath } from '../helpers/shared';

const MODEL = 'llama-stories260K';

function sweepLengths(max: number): number[] {
  const lengths = new Set<number>();
  for (let t = 1; t <= 20; t++) lengths.add(t);
  for (let m = 32; m <= max; m += 16) [m - 1, m, m + 1].forEach((t) => t <= max && lengths.add(t));
  [100, 300, 500].forEach((t) => lengths.add(t));
  return [...lengths].sort((a, b) => a - b);
}

interface Produced {
  attentions: Float32Array[];
  logits?: Float32Array;
}

async function run(loaded: LoadedModel, backend: Backend, ids: number[]): Promise<Produced> {
  const out: Produced = { attentions: [] };
  await inspect(loaded, backend, { ids }, { logits: true }, {
    onEvent: (e) => {
      if (e.type === 'attention') out.attentions[e.layer] = e.probs;
      else if (e.type === 'logits') out.logits = e.data;
    },
  });
  return out;
}

describe(`${MODEL} at every block-crossing length, every backend against the JavaScript reference`, function () {
  this.timeout(600000);
  let loaded: LoadedModel;
  let ids: number[];
  const reference = new ReferenceBackend();
  const lengths = sweepLengths(512);

  before(async () => {
    loaded = loadModel(sharedPath('models', MODEL));
    const meta = (name: string) => JSON.parse(fs.readFileSync(sharedPath('fixtures', MODEL, `${name}.json`), 'utf8'));
    // Real text, long enough for the model's 512 positions.
    const encoded = await loaded.tokenizer!.encode(`${meta('story_long_512').text} ${meta('story_200').text}`);
    ids = encoded.ids.slice(0, 512);
  });

  const tested = testBackends().filter((b) => b.name !== 'cpu');
  /** WebGPU keeps one device for the sweep; the WebAssembly backends start fresh at each length. */
  const freshEachLength = (name: string) => name.startsWith('cpu-wasm');
  const kept = new Map<string, Backend>();
  after(() => kept.forEach((b) => b.dispose()));

  for (const t of lengths) {
    it(`T=${t}: ${tested.map((b) => b.name).join(', ')}`, async () => {
      const input = ids.slice(0, t);
      const expected = await run(loaded, reference, input);
      for (const entry of tested) {
        const fresh = freshEachLength(entry.name);
        let backend = kept.get(entry.name);
        if (!backend) {
          backend = await entry.create();
          if (!fresh) kept.set(entry.name, backend);
        }
        try {
          const actual = await run(loaded, backend, input);
          expected.attentions.forEach((probs, layer) => {
            assertClose(actual.attentions[layer], probs, { atol: 3e-5 }, `${entry.name}, T=${t}, attentions.${layer} [head, query, key]`);
          });
          assertClose(actual.logits!, expected.logits!, { atol: 2e-4, rtol: 1e-5 }, `${entry.name}, T=${t}, logits`);
        } finally {
          if (fresh) backend.dispose();
        }
      }
    });
  }
});
