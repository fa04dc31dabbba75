/**
 * The engine's transport pieces: binary frames that survive any chunking of the stream, and the
 * reading of a dead engine's last words into an error that says what crashed.
 */
import * as assert from 'assert';
import * as os from 'os';
import { EngineClient } from '../../src/engine/worker/engineClient';
import { crashError, panicOf } from '../../src/engine/worker/crash';
import { FrameKind, FrameReader, encodeFrame } from '../../src/engine/worker/frames';
import { startTransport } from '../../src/engine/worker/transport';
import { ENGINE_WORKER } from '../helpers/repo';

const WORKER = ENGINE_WORKER;

describe('engine transport', () => {
  it('frames carry structured clones with transferred buffers, whatever the chunking', () => {
    const probs = Float32Array.from({ length: 25_000 }, (_, i) => i / 7);
    const half = new Uint16Array([1, 2, 3]);
    const empty = new Float32Array(0);
    const tail = probs.subarray(10, 20);
    const messages: unknown[] = [
      { type: 'event', event: { probs, half, empty, scores: undefined, nan: NaN, inf: -Infinity, map: new Map([[1, 'a']]) } },
      { type: 'note', id: 3 },
      { type: 'event', event: { probs: tail } },
    ];
    const transfers = [[probs.buffer, half.buffer, empty.buffer], [], [tail.buffer]] as ArrayBuffer[][];
    const bytes = Buffer.concat(messages.flatMap((m, i) => encodeFrame(i === 1 ? FrameKind.Activity : FrameKind.Message, m, transfers[i])));
    for (const chunk of [1, 7, 4096, bytes.length]) {
      const got: [FrameKind, unknown][] = [];
      const reader = new FrameReader((kind, value) => got.push([kind, value]));
      for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.subarray(at, at + chunk));
      assert.deepStrictEqual(got.map(([k]) => k), [FrameKind.Message, FrameKind.Activity, FrameKind.Message], `chunks of ${chunk}`);
      assert.deepStrictEqual(got.map(([, v]) => v), messages, `chunks of ${chunk}`);
      assert.strictEqual((got[2][1] as { event: { probs: Float32Array } }).event.probs[0], probs[10]);
    }
  });

  it('reads a Rust panic, running out of memory, and an unexplained death', () => {
    const stderr = "thread '<unnamed>' (7423) panicked at /build/tokenizers/src/processors/template.rs:563:61:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1`";
    assert.deepStrictEqual(panicOf(stderr), { where: 'src/processors/template.rs:563:61', message: 'called `Option::unwrap()` on a `None` value' });
    const load = crashError({ code: null, signal: 'SIGABRT', stderr, activity: { task: 'tokenizer-load', file: '/m/tokenizer.json' } });
    assert.strictEqual(load.code, 'ENGINE_CRASHED');
    assert.match(load.message, /tokenizer crashed while loading \/m\/tokenizer\.json \(the tokenizers library aborted: called `Option::unwrap\(\)`/);
    assert.deepStrictEqual([load.details.file, load.remedies], ['/m/tokenizer.json', ['choose-model']]);
    const gpu = crashError({ code: null, signal: 'SIGSEGV', stderr: '', activity: { task: 'gpu-start' } });
    assert.deepStrictEqual(gpu.remedies, ['use-cpu', 'install-webgpu']);
    const oom = crashError({ code: 134, signal: null, stderr: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory' });
    assert.match(oom.message, /ran out of memory/);
    assert.deepStrictEqual(oom.remedies, ['shorter-input', 'raise-memory-budget']);
    assert.match(crashError({ code: 3, signal: null, stderr: '' }).message, /stopped unexpectedly \(exit code 3\)/);
    const missing = "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module '/x/dist/engineWorker.js'\n    at Module._resolveFilename (node:internal)";
    assert.strictEqual(crashError({ code: 1, signal: null, stderr: missing }).message, "The engine process stopped unexpectedly (exit code 1: Error: Cannot find module '/x/dist/engineWorker.js').");
  });

  it('after WebGPU crashed an engine, auto runs go to the CPU and say why', async () => {
    const client = new EngineClient(WORKER);
    try {
      const result = await client.inspect({ model: 'demo', backend: 'auto', input: { text: '我爱吃苹果' }, wants: {}, gpuCrashed: 'The WebGPU driver crashed while starting the GPU device (signal SIGSEGV).' }, { onEvent: () => undefined });
      assert.strictEqual(result.backend.used, 'cpu');
      assert.match(result.backend.fallbackReason ?? '', /^WebGPU crashed the engine: The WebGPU driver crashed/);
    } finally {
      await client.dispose();
    }
  });

  it('the worker-thread transport (kept to measure what isolation costs) runs the same requests', async () => {
    const client = new EngineClient(WORKER, { transport: 'thread' });
    try {
      const result = await client.inspect({ model: 'demo', backend: 'cpu', input: { text: '我爱吃苹果' }, wants: {} }, { onEvent: () => undefined });
      assert.strictEqual(result.source.tokens.length, 5);
      assert.strictEqual(client.enginePid, undefined);
    } finally {
      await client.dispose();
    }
  });

  it('starts the editor\'s engine below normal priority, and the CLI\'s at the caller\'s', async function () {
    const mine = os.getPriority();
    for (const lowPriority of [true, false]) {
      const transport = startTransport('process', WORKER, { onMessage: () => undefined, onLost: () => undefined }, { lowPriority });
      try {
        assert.ok(transport.pid !== undefined);
        const expected = lowPriority ? Math.max(mine, 10) : mine;
        assert.strictEqual(os.getPriority(transport.pid), expected, `lowPriority ${lowPriority}`);
      } finally {
        transport.kill();
        await transport.exited;
      }
    }
  });
});
