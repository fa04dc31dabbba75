/**
 * A cancelled or replaced run gives back everything it took. On every backend, after one finished run
 * (weights uploaded, memory grown), 20 runs are cancelled at different layers, half through the signal
 * (the model stops before its next layer) and half by the reader leaving at a layer (as the engine does
 * when a cancel arrives while a layer is being sent). Afterwards the backend holds exactly what it held
 * after the finished run, the process heap is back to its size, and once the model's weights are
 * released the backend holds nothing.
 */
import * as assert from 'assert';
import * as v8 from 'v8';
import * as vm from 'vm';
import type { Backend } from '../../src/engine/backend';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';
import { EngineError, isEngineError } from '../../src/engine/errors';
import { InspectInput, inspect } from '../../src/engine/inspect';
import { LoadedModel, loadModel } from '../../src/engine/loadModel';
import type { ForwardWants } from '../../src/engine/model';
import { testBackends } from '../helpers/backends';
import { sharedPath } from '../helpers/shared';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/**
 * The JavaScript heap and the array buffers it owns (a run's results live there), after full
 * collections (twice: weak references and finalizers settle in the second).
 */
function heapUsed(): number {
  collectGarbage();
  collectGarbage();
  const { heapUsed: objects, arrayBuffers } = process.memoryUsage();
  return objects + arrayBuffers;
}

/**
 * What the heap may differ by after 20 runs: V8's own bookkeeping moved it by up to 0.2 MB here; keeping
 * each cancelled run's events (a deliberate leak) grew it by 0.4 to 10 MB.
 */
const HEAP_SLACK = 512 * 1024;
const RUNS = 20;

const TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog, and every day they ran to the big tree by the river to look at the birds and the boats.';
const EVERYTHING: ForwardWants = { scores: true, headVectors: true, hiddenStates: true, logits: true };

interface Case {
  readonly name: string;
  readonly model: string;
  readonly input: InspectInput;
  readonly wants: ForwardWants;
}

const CASES: Case[] = [
  { name: 'GPT-2, every tensor asked for', model: 'gpt2-tiny-random', input: { text: TEXT }, wants: EVERYTHING },
  { name: 'Qwen3 (q/k norm), a traced layer, float16 probabilities', model: 'qwen3-tiny-random', input: { text: TEXT }, wants: { trace: { stack: 'self', layer: 1 }, probabilityFormat: 'f16' } },
  { name: 'BERT with its MLM head', model: 'bert-tiny-random', input: { text: TEXT }, wants: EVERYTHING },
  { name: 'T5 teacher-forced (position bias)', model: 't5-tiny-random', input: { text: TEXT, targetText: 'Es war einmal' }, wants: EVERYTHING },
  { name: 'BART teacher-forced, a traced cross layer', model: 'bart-tiny-random', input: { text: TEXT, targetText: 'Once upon a time' }, wants: { scores: true, trace: { stack: 'cross', layer: 0 } } },
  { name: 'Llama generating (key/value cache)', model: 'llama-stories260K', input: { text: TEXT, generate: 4 }, wants: { scores: true } },
  { name: 'T5 generating (cross keys in the cache)', model: 't5-tiny-random', input: { text: TEXT, generate: 3 }, wants: {} },
  { name: 'the demo, encoder-decoder', model: 'demo', input: { text: 'the cat sat', targetText: 'le chat' }, wants: EVERYTHING },
];

/** Runs once to the end; returns how many attention events it streamed. */
async function finishedRun(loaded: LoadedModel, backend: Backend, c: Case): Promise<number> {
  let events = 0;
  await inspect(loaded, backend, c.input, c.wants, { onEvent: (e) => void (e.type === 'attention' && events++) });
  return events;
}

/**
 * Cancels after attention event `at`: through the signal (`stop` false: the model notices before its
 * next layer) or by throwing from the reader (the stream is left at that layer's yield).
 */
async function cancelledRun(loaded: LoadedModel, backend: Backend, c: Case, at: number, throwFromReader: boolean): Promise<unknown> {
  const controller = new AbortController();
  let seen = 0;
  try {
    await inspect(loaded, backend, c.input, c.wants, {
      onEvent: (e) => {
        if (e.type !== 'attention' || seen++ !== at) return;
        controller.abort();
        if (throwFromReader) throw new EngineError('CANCELLED', 'The run was cancelled.');
      },
    }, controller.signal);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('a cancelled run frees its tensors', function () {
  this.timeout(300000);
  for (const b of testBackends()) {
    describe(b.name, () => {
      for (const c of CASES) {
        it(`${c.name}: ${RUNS} runs cancelled at different layers leave the backend and the heap as they were`, async () => {
          const backend = await b.create();
          try {
            const loaded = loadModel(c.model === 'demo' ? 'demo' : sharedPath('models', c.model));
            const empty = backend.liveTensors();
            const events = await finishedRun(loaded, backend, c);
            const settled = backend.liveTensors();
            assert.ok(settled.count > empty.count, 'the finished run left its weights on the backend');
            // Each way of cancelling once more, so that the heap measured next holds their compiled code too.
            await cancelledRun(loaded, backend, c, 0, true);
            await cancelledRun(loaded, backend, c, 0, false);
            const heap = heapUsed();
            const grown = backend instanceof WasmCpuBackend ? backend.peakMemoryBytes : 0;
            const cancelled = { byReader: 0, bySignal: 0 };
            for (let i = 0; i < RUNS; i++) {
              // Every layer but the last (after it the run has nothing left to cancel), each both ways.
              const at = Math.floor(i / 2) % Math.max(1, events - 1);
              const byReader = i % 2 === 0;
              const err = await cancelledRun(loaded, backend, c, at, byReader);
              // Through the signal, a run whose remaining layers were already computed may finish.
              assert.ok(isEngineError(err) ? err.code === 'CANCELLED' : err === undefined && !byReader, `run ${i}, cancelled after attention event ${at}, ended with ${String(err)}`);
              if (err) cancelled[byReader ? 'byReader' : 'bySignal']++;
              assert.deepStrictEqual(backend.liveTensors(), settled, `run ${i}, cancelled after attention event ${at} (${byReader ? 'by the reader' : 'through the signal'}), left tensors behind`);
            }
            assert.ok(cancelled.byReader === RUNS / 2 && cancelled.bySignal > 0, `runs cancelled: ${JSON.stringify(cancelled)}`);
            const heapAfter = heapUsed();
            assert.ok(heapAfter - heap < HEAP_SLACK, `the heap grew by ${((heapAfter - heap) / 1024).toFixed(0)} KB over ${RUNS} cancelled runs`);
            if (backend instanceof WasmCpuBackend) assert.strictEqual(backend.peakMemoryBytes, grown, 'the kernels\' memory grew');
            loaded.model.releaseWeights();
            assert.deepStrictEqual(backend.liveTensors(), empty, 'releasing the weights left tensors on the backend');
          } finally {
            backend.dispose();
          }
        });
      }
    });
  }
});
