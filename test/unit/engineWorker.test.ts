/** The engine in its worker thread: streaming, a free caller thread, cancellation and errors. */
import * as assert from 'assert';
import * as path from 'path';
import { EngineError } from '../../src/engine/errors';
import type { AttentionEvent } from '../../src/engine/model';
import { EngineClient } from '../../src/engine/worker/engineClient';
import { sharedPath } from '../helpers/shared';

const WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'engineWorker.js');
const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ';

describe('engine worker', function () {
  let client: EngineClient;
  beforeEach(() => {
    client = new EngineClient(WORKER);
  });
  afterEach(() => client.dispose());

  it('streams tokens first, then every layer with transferred typed arrays', async () => {
    const order: string[] = [];
    const layers: AttentionEvent[] = [];
    const result = await client.inspect(
      { model: sharedPath('models', 'llama-stories260K'), backend: 'cpu', input: { text: STORY }, wants: { scores: true } },
      {
        onStart: (s) => order.push(`start:${s.source.tokens.length}`),
        onEvent: (e) => {
          order.push(e.type);
          if (e.type === 'attention') layers.push(e);
        },
      },
    );
    assert.strictEqual(order[0], `start:${result.source.ids.length}`);
    assert.strictEqual(layers.length, 5);
    assert.ok(layers[0].probs instanceof Float32Array && layers[0].scores instanceof Float32Array);
    assert.strictEqual(layers[0].probs.length, 8 * result.source.ids.length ** 2);
    // The CPU choice runs the WebAssembly kernels where the engine has SIMD, else the JavaScript reference.
    assert.deepStrictEqual({ ...result.backend, adapter: undefined }, { used: 'cpu', adapter: undefined, fallbackReason: null });
    assert.match(result.backend.adapter, /^CPU \((WebAssembly SIMD|JavaScript)/);
  });

  it('keeps the caller thread free and cancels a long run', async () => {
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    let layersSeen = 0;
    const started = Date.now();
    const run = client.inspect(
      { model: 'demo', backend: 'cpu', input: { text: STORY.repeat(40) }, wants: {} },
      { onEvent: () => void layersSeen++, onStart: () => setTimeout(() => controller.abort(), 50) },
      controller.signal,
    );
    await assert.rejects(run, (err: unknown) => err instanceof EngineError && err.code === 'CANCELLED');
    clearInterval(timer);
    assert.ok(ticks > 3, `the caller's timers kept running (${ticks} ticks in ${Date.now() - started} ms)`);
    // The client still works after a cancellation.
    const again = await client.inspect({ model: 'demo', backend: 'cpu', input: { text: '我爱吃苹果' }, wants: {} }, { onEvent: () => undefined });
    assert.strictEqual(again.source.tokens.length, 5);
  });

  it('reports engine errors with their code', async () => {
    await assert.rejects(
      client.inspect({ model: '/nonexistent/model', backend: 'cpu', input: { text: 'x' }, wants: {} }, { onEvent: () => undefined }),
      (err: unknown) => err instanceof EngineError && err.code === 'BAD_MODEL_FOLDER' && /not a folder/.test(err.message),
    );
  });
});
