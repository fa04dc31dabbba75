#!/usr/bin/env node
/**
 * `npm run bench:ipc`: what moving the engine out of the extension host costs. The layer stream at
 * GPT-2-small shape (12 heads × 1024² probabilities: 50 MB per layer in float32, 25 MB in float16, and
 * 200 MB at 2,048 tokens) and the round trip of a request with no layers, through the real EngineClient
 * over a worker thread (before: zero-copy transfers, no isolation) and over the engine process (after:
 * binary frames), and through Node's own `serialization: 'advanced'` IPC for comparison (why frames).
 * Then real runs end to end, thread against process: llama-stories260K on the CPU, and GPT-2 small at
 * 1,024 tokens (float32 and float16 probabilities) when bench:scale's random model is in the cache.
 * Medians of several rounds; the modes alternate so that machine noise falls on each alike.
 *
 * Usage: npm run bench:ipc [-- --rounds N]   (needs npm run build and compile-tests: npm run bench:ipc does both)
 */
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { EngineClient } = require('../../out/src/engine/worker/engineClient');

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const STREAM = path.join(__dirname, 'streamWorker.js');
const ENGINE = path.join(__dirname, '..', '..', 'dist', 'engineWorker.js');
const LLAMA = path.resolve(__dirname, '..', '..', '..', 'shared', 'models', 'llama-stories260K');
const GPT2 = path.join(process.env.ATTENTION_INSPECTOR_CACHE ?? path.join(os.homedir(), '.cache', 'attention-inspector'), 'bench-models', 'gpt2-v1');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median first-layer and whole-run ms of `rounds` runs after a warm-up (which loads the model), per transport, alternating. */
async function realRuns(label, request, runs) {
  const clients = { thread: new EngineClient(ENGINE, { transport: 'thread' }), process: new EngineClient(ENGINE, { transport: 'process' }) };
  const times = { thread: [], process: [] };
  for (let r = 0; r <= runs; r++) {
    for (const [transport, client] of Object.entries(clients)) {
      const started = performance.now();
      let first = 0;
      await client.inspect(request, { onEvent: () => void (first ||= performance.now() - started) });
      if (r > 0) times[transport].push({ first, total: performance.now() - started });
    }
  }
  await Promise.all(Object.values(clients).map((c) => c.dispose()));
  const cell = (t) => `${median(t.map((x) => x.first)).toFixed(0)} / ${median(t.map((x) => x.total)).toFixed(0)} ms`.padStart(22);
  const overhead = (median(times.process.map((x) => x.total)) / median(times.thread.map((x) => x.total)) - 1) * 100;
  console.log(`${label.padEnd(46)}${cell(times.thread)}${cell(times.process)}${`${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}%`.padStart(12)}`);
}

/** One streamed run: ms from the request to the last layer received. */
async function streamOnce(client, shape) {
  const started = performance.now();
  let bytes = 0;
  await client.inspect({ model: 'stream', backend: 'cpu', input: shape, wants: {} }, {
    onEvent: (e) => void (bytes += (e.probsF16 ?? e.probs).byteLength),
  });
  return { ms: performance.now() - started, bytes };
}

/** Node's advanced-serialization IPC carrying the same layers (advancedChild.js). */
function advancedOnce(child, shape) {
  return new Promise((resolve) => {
    const started = performance.now();
    let bytes = 0;
    const onMessage = (m) => {
      if (m.type === 'layer') bytes += m.probs.byteLength;
      if (m.type !== 'end') return;
      child.off('message', onMessage);
      resolve({ ms: performance.now() - started, bytes });
    };
    child.on('message', onMessage);
    child.send({ type: 'stream', shape });
  });
}

async function main() {
  const shapes = [
    { name: 'GPT-2 small, T=1024, float32 (50 MB/layer)', shape: { layers: 12, heads: 12, length: 1024, half: false } },
    { name: 'GPT-2 small, T=1024, float16 (25 MB/layer)', shape: { layers: 12, heads: 12, length: 1024, half: true } },
    { name: 'GPT-2 small, T=2048, float32 (200 MB/layer)', shape: { layers: 4, heads: 12, length: 2048, half: false } },
  ];
  const thread = new EngineClient(STREAM, { transport: 'thread' });
  const proc = new EngineClient(STREAM, { transport: 'process' });
  const advanced = fork(path.join(__dirname, 'advancedChild.js'), [], { serialization: 'advanced' });
  console.log(`Layer stream through the engine client (median of ${rounds} rounds; ms per layer and MB/s, to the last layer received)`);
  console.log(`${'shape'.padEnd(46)}${'thread (before)'.padStart(22)}${'process (after)'.padStart(22)}${'advanced IPC'.padStart(22)}`);
  for (const { name, shape } of shapes) {
    const results = { thread: [], proc: [], advanced: [] };
    for (let r = 0; r < rounds; r++) {
      results.thread.push(await streamOnce(thread, shape));
      results.proc.push(await streamOnce(proc, shape));
      results.advanced.push(await advancedOnce(advanced, shape));
    }
    const cell = (runs) => {
      const ms = median(runs.map((x) => x.ms));
      return `${(ms / shape.layers).toFixed(1)} ms · ${(runs[0].bytes / (ms / 1000) / 1e6).toFixed(0)} MB/s`.padStart(22);
    };
    console.log(`${name.padEnd(46)}${cell(results.thread)}${cell(results.proc)}${cell(results.advanced)}`);
  }
  const pings = { thread: [], proc: [] };
  for (let i = 0; i < 50 * rounds; i++) {
    pings.thread.push((await streamOnce(thread, { layers: 0, heads: 1, length: 1 })).ms);
    pings.proc.push((await streamOnce(proc, { layers: 0, heads: 1, length: 1 })).ms);
  }
  console.log(`${'request → started → done, no layers'.padEnd(46)}${`${median(pings.thread).toFixed(3)} ms`.padStart(22)}${`${median(pings.proc).toFixed(3)} ms`.padStart(22)}`);
  await Promise.all([thread.dispose(), proc.dispose()]);
  advanced.kill();

  const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. '.repeat(6);
  console.log(`\nReal runs on the CPU (median of ${rounds}; first layer / whole run)`);
  console.log(`${'run'.padEnd(46)}${'thread (before)'.padStart(22)}${'process (after)'.padStart(22)}${'cost'.padStart(12)}`);
  await realRuns('llama-stories260K, 188 tokens, probs + scores', { model: LLAMA, backend: 'cpu', input: { text }, wants: { scores: true } }, rounds);
  if (!fs.existsSync(path.join(GPT2, 'model.safetensors'))) {
    console.log(`(GPT-2 small: run npm run bench:scale once to write ${GPT2}; skipped)`);
    return;
  }
  const ids = Array.from({ length: 1024 }, (_, i) => (i * 7919) % 50257);
  for (const format of ['f32', 'f16']) {
    await realRuns(`GPT-2 small, 1,024 tokens, ${format} probabilities`, { model: GPT2, backend: 'cpu', input: { ids }, wants: { probabilityFormat: format } }, Math.min(rounds, 3));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
