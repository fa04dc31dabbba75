/** The engine in its own process: streaming, a free caller thread, cancellation, errors and crashes. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../../src/engine/errors';
import type { AttentionEvent } from '../../src/engine/model';
import { EngineClient } from '../../src/engine/worker/engineClient';
import { sharedPath } from '../helpers/shared';
import { crashingTokenizer, isError } from '../helpers/scratchModel';
import { ENGINE_WORKER } from '../helpers/repo';

const WORKER = ENGINE_WORKER;
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

  it('a tokenizer that aborts the engine fails the run with what crashed and on which file; the next run gets a fresh engine', async () => {
    const dir = crashingTokenizer();
    try {
      const first = client.enginePid;
      await client.inspect({ model: 'demo', backend: 'cpu', input: { text: '我爱吃苹果' }, wants: {} }, { onEvent: () => undefined });
      const crashed = client.enginePid;
      assert.ok(crashed !== undefined && first === undefined);
      await assert.rejects(
        client.inspect({ model: dir, backend: 'cpu', input: { text: 'Once upon a time' }, wants: {} }, { onEvent: () => undefined }),
        (err: unknown) => isError(err, 'ENGINE_CRASHED', "The model's tokenizer crashed while tokenizing the text with", path.join(dir, 'tokenizer.json'))
          && (err as EngineError).details.file === path.join(dir, 'tokenizer.json') && /normalizer\.rs/.test((err as EngineError).details.reason ?? ''),
      );
      const again = await client.inspect({ model: sharedPath('models', 'llama-stories260K'), backend: 'cpu', input: { text: STORY }, wants: {} }, { onEvent: () => undefined });
      assert.ok(again.source.ids.length > 10);
      assert.notStrictEqual(client.enginePid, crashed, 'a new engine process');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports engine errors with their code', async () => {
    await assert.rejects(
      client.inspect({ model: '/nonexistent/model', backend: 'cpu', input: { text: 'x' }, wants: {} }, { onEvent: () => undefined }),
      (err: unknown) => err instanceof EngineError && err.code === 'BAD_MODEL_FOLDER' && /not a folder/.test(err.message),
    );
  });
});
