/**
 * Weights are held once, on the backend: a model reads each tensor from its file when a backend first
 * needs it (its shape was checked against the header at load) and keeps no host copy, so a second
 * backend reads the file again, and a file replaced since loading is refused with what to do.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { header, isError, scratchModel, writeWithHeader } from '../helpers/scratchModel';

const TEXT = 'Once upon a time, there was a little girl named Lily.';

describe('weights read when uploaded', () => {
  const dirs: string[] = [];
  const scratch = (model: string) => {
    const dir = scratchModel(model);
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('a shape the config contradicts is still refused at load, from the header alone', () => {
    const dir = scratch('gpt2-tiny-random');
    const file = path.join(dir, 'model.safetensors');
    const { json, data } = header(file);
    const name = Object.keys(json).find((n) => n.endsWith('h.0.attn.c_attn.weight'))!;
    const [rows, cols] = json[name].shape;
    json[name].shape = [cols, rows]; // the same bytes, the other way round: only the header says so
    writeWithHeader(file, json, data);
    assert.throws(() => loadModel(dir), (err: unknown) => isError(err, 'SHAPE_MISMATCH', name));
  });

  for (const damage of ['replaced', 'removed'] as const) {
    it(`a weights file ${damage} after loading: the backend that has the weights runs on, a new one is told to run again`, async () => {
      const dir = scratch('gpt2-tiny-random');
      const file = path.join(dir, 'model.safetensors');
      const loaded = loadModel(dir);
      const first = new ReferenceBackend();
      const before = await inspect(loaded, first, { text: TEXT }, {}, { onEvent: () => undefined });
      if (damage === 'removed') fs.rmSync(file);
      else fs.writeFileSync(file, Buffer.concat([fs.readFileSync(file), Buffer.alloc(8)])); // a different file now
      const again = await inspect(loaded, first, { text: TEXT }, {}, { onEvent: () => undefined });
      assert.deepStrictEqual(again.source.ids, before.source.ids);
      const second = new WasmCpuBackend({ threads: 1 });
      try {
        await assert.rejects(inspect(loaded, second, { text: TEXT }, {}, { onEvent: () => assert.fail('no layer may run') }),
          (err: unknown) => isError(err, 'BAD_MODEL_FOLDER', file, 'since the model was loaded', 'Run again'));
        assert.deepStrictEqual(second.liveTensors(), { count: 0, bytes: 0 }, 'a failed upload leaves nothing on the backend');
      } finally {
        second.dispose();
      }
    });
  }

  it('released weights are read from the file again on the next run', async () => {
    const dir = scratch('qwen2-tiny-random-bf16');
    const loaded = loadModel(dir);
    const backend = new WasmCpuBackend({ threads: 1 });
    try {
      const probs = async () => {
        const out: Float32Array[] = [];
        await inspect(loaded, backend, { text: TEXT }, {}, { onEvent: (e) => void (e.type === 'attention' && out.push(e.probs)) });
        return out;
      };
      const first = await probs();
      loaded.model.releaseWeights();
      assert.deepStrictEqual(backend.liveTensors(), { count: 0, bytes: 0 });
      assert.deepStrictEqual(await probs(), first);
      fs.rmSync(path.join(dir, 'model.safetensors'));
      loaded.model.releaseWeights();
      await assert.rejects(probs(), (err: unknown) => isError(err, 'BAD_MODEL_FOLDER', 'cannot be opened any more'));
    } finally {
      backend.dispose();
    }
  });
});
