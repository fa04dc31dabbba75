/**
 * The host's run store: every layer comes back exactly as written (causal and full, small and past the
 * memory cache), while its write is still under way and after it reached the disk; the spill file
 * goes when the run does.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LayerMessage } from '../../src/protocol/messages';
import { RunStore } from '../../src/store/runStore';

function layerOf(index: number, heads: number, queries: number, keys: number, causal: boolean): { message: LayerMessage; probs: Float32Array } {
  const message: LayerMessage = { type: 'layer', runId: 1, stack: 'self', layer: index, numHeads: heads, numKvHeads: heads, headDim: 4, queryLength: queries, keyLength: keys, causal };
  const probs = new Float32Array(heads * queries * keys);
  let seed = 17 + index;
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < queries; q++) {
      const visible = causal ? keys - queries + q + 1 : keys;
      for (let k = 0; k < visible; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        probs[(h * queries + q) * keys + k] = (seed % 10007) / 10007;
      }
    }
  }
  return { message, probs };
}

describe('run store', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-store-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives back every layer exactly, while its write is under way and once it is on disk', async () => {
    const store = new RunStore(dir);
    const layers = [layerOf(0, 3, 37, 37, true), layerOf(1, 3, 37, 37, false), layerOf(2, 2, 5, 41, true)];
    for (const { message, probs } of layers) store.write(message, probs.slice());
    for (const { message, probs } of layers) assert.deepStrictEqual(store.tensors(message)?.probs, probs, `layer ${message.layer} before the disk`);
    await store.flushed();
    const causalBytes = 4 * 3 * (37 * 38) / 2, fullBytes = 4 * 3 * 37 * 37, shortBytes = 4 * 2 * (37 * 5 + 10);
    assert.strictEqual(store.bytes, causalBytes + fullBytes + shortBytes, 'a causal layer keeps only the keys each query sees');
    assert.strictEqual(fs.statSync(fs.readdirSync(dir).map((f) => path.join(dir, f))[0]).size, store.bytes);
    for (const { message, probs } of layers) assert.deepStrictEqual(store.tensors(message)?.probs, probs, `layer ${message.layer} from the disk`);
    store.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepStrictEqual(fs.readdirSync(dir), [], 'the spill file is removed with the run');
  });

  it('keeps memory bounded: a run larger than the cache is read back from the disk, exactly', async function () {
    this.timeout(60000);
    const store = new RunStore(dir);
    // 6 layers of 12 × 1024 × 1024 float32 (48 MiB each, 288 MiB in all) against a 128 MiB cache.
    const layers = Array.from({ length: 6 }, (_, i) => layerOf(i, 12, 1024, 1024, false));
    for (const { message, probs } of layers) store.write(message, probs);
    const first = layers[0];
    const early = store.tensors(first.message)!.probs;
    assert.strictEqual(early[5 * 1024 + 7], first.probs[5 * 1024 + 7]);
    await store.flushed();
    for (const { message, probs } of [layers[1], layers[5], layers[0]]) {
      const back = store.tensors(message)!.probs;
      assert.strictEqual(back.length, probs.length);
      for (let i = 0; i < probs.length; i += 4099) assert.strictEqual(back[i], probs[i], `layer ${message.layer} value ${i}`);
    }
    store.dispose();
  });

  it('refuses writes after dispose and answers nothing for a layer it never had', () => {
    const store = new RunStore(dir);
    const { message } = layerOf(0, 1, 2, 2, true);
    assert.strictEqual(store.tensors(message), undefined);
    store.dispose();
    assert.throws(() => store.write(message, new Float32Array(4)), /disposed/);
  });
});
