/**
 * A run is estimated before it starts and refused over the memory budget (TOO_MUCH_MEMORY, with the
 * numbers), instead of growing until the machine swaps; a finished run never holds NaN.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../../src/engine/backend';
import { createCpuBackend } from '../../src/engine/cpu/createCpuBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { estimateRunMemory, memoryBudget } from '../../src/engine/memory';
import { header, isError, scratchModel } from '../helpers/scratchModel';
import { sharedPath } from '../helpers/shared';

const LLAMA = sharedPath('models', 'llama-stories260K');
const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ';

describe('memory budget', () => {
  let backend: Backend;
  before(() => (backend = createCpuBackend()));
  after(() => backend.dispose());

  it('estimates attention growing with the square of the length', () => {
    const { model, weightSize } = loadModel(LLAMA);
    const at = (tokens: number) => estimateRunMemory(model.info, weightSize!, { sourceTokens: tokens, wants: {} });
    assert.ok(at(5000).retained > 3.5 * 2 ** 30, `20 KB of text keeps ${at(5000).retained} bytes of attention`);
    assert.ok(Math.abs(at(2000).retained / at(1000).retained - 4) < 0.1);
    assert.ok(at(10).total < 50 * 2 ** 20);
    assert.ok(memoryBudget().bytes > 0 && memoryBudget(300).bytes === 300 * 2 ** 20);
    // The logit lens: one block of 64 rows' logits over the vocabulary at a time.
    const lensed = estimateRunMemory(model.info, weightSize!, { sourceTokens: 1000, wants: { logitLens: { top: 5 } } });
    assert.strictEqual(lensed.activations - at(1000).activations, 4 * model.info.vocabSize * 64);
  });

  it('counts the weights as the CPU backend holds them: float32, bfloat16 matrices at 2 bytes', async () => {
    for (const name of ['qwen2-tiny-random-bf16', 'qwen2-tiny-random']) {
      const loaded = loadModel(sharedPath('models', name));
      await inspect(loaded, backend, { text: STORY }, {}, { onEvent: () => undefined });
      const held = backend.liveTensors().bytes;
      // Panels pad each matrix to 8 output rows and the heap aligns blocks: within 2 % of the estimate.
      assert.ok(Math.abs(held - loaded.weightSize!.heldBytes) < 0.02 * held, `${name}: the backend holds ${held} bytes, the estimate says ${loaded.weightSize!.heldBytes}`);
      loaded.model.releaseWeights();
    }
  });

  it('counts every layer for a caller that keeps them, and only the two in flight for the engine, whose client stores them', () => {
    const { model, weightSize } = loadModel(LLAMA);
    const { numHeads, numLayers } = model.info;
    const tokens = 2048;
    const layer = numHeads * tokens * tokens * 4; // one layer's float32 probabilities
    assert.strictEqual(estimateRunMemory(model.info, weightSize!, { sourceTokens: tokens, wants: {} }).retained, 2 * numLayers * layer);
    assert.strictEqual(estimateRunMemory(model.info, weightSize!, { sourceTokens: tokens, wants: {}, streamed: true }).retained, 2 * layer);
  });

  it('refuses 20 KB of text over the budget, with the numbers and what to do', async () => {
    const loaded = loadModel(LLAMA);
    await assert.rejects(
      inspect(loaded, backend, { text: STORY.repeat(220) }, {}, { onEvent: () => assert.fail('no layer may run') }, undefined, { memoryBudgetMB: 512 }),
      (err: unknown) => isError(err, 'TOO_MUCH_MEMORY', 'needs about', 'GB', 'memory budget of 512 MB') && assert.deepStrictEqual((err as { remedies: unknown }).remedies, ['shorter-input', 'raise-memory-budget']) === undefined,
    );
    const small = await inspect(loaded, backend, { text: STORY }, {}, { onEvent: () => undefined }, undefined, { memoryBudgetMB: 512 });
    assert.ok(small.source.ids.length > 10);
  });

  it('refuses to load weights over the budget before reading them', () => {
    assert.throws(() => loadModel(LLAMA, { memoryBudgetMB: 1 }), (err: unknown) => isError(err, 'TOO_MUCH_MEMORY', 'Loading', 'weights'));
  });
});

describe('no silent NaN', () => {
  let dir: string;
  let backend: Backend;
  before(() => (backend = createCpuBackend()));
  after(() => {
    backend.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a weight holding NaN stops the run with an error naming the tensor', async () => {
    dir = scratchModel('qwen2-tiny-random');
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    const { length, json } = header(file);
    bytes.writeFloatLE(NaN, 8 + length + json['model.norm.weight'].data_offsets[0] + 4);
    fs.writeFileSync(file, bytes);
    const layers: string[] = [];
    await assert.rejects(
      inspect(loadModel(dir), backend, { text: 'The cat sat on the mat.' }, { logits: true }, { onEvent: (e) => void layers.push(e.type) }),
      (err: unknown) => isError(err, 'BAD_SAFETENSORS', 'model.norm.weight', 'model.safetensors', 'logits'),
    );
    assert.deepStrictEqual(layers, ['attention', 'attention'], 'the finite layers were streamed; the NaN logits were not');
  });
});
