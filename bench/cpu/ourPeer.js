#!/usr/bin/env node
/**
 * Our side of the CPU benchmark: loads a model folder once on the WebAssembly CPU backend, then
 * answers one JSON request per stdin line with one JSON line on stdout:
 *   {"tokens": T, "format": "f32"|"f16", "keep": bool, "check": bool}  → {"ms", "cpu_ms", "layers", "wasm_mb", "check"?}
 *     one forward pass over T ids with every attention probability read back (and logits); `keep`
 *     holds all layers' probabilities until the pass ends, as output_attentions does, else each
 *     layer is dropped once read (a streaming consumer); cpu_ms is the CPU time of all its threads;
 *     `check` (f32 only) adds a sample of the last layer's probabilities (../agreement.js);
 *   {"peak": true} → {"peak_mb", "wasm_mb"}: the process's peak resident memory.
 * Usage: node bench/cpu/ourPeer.js FOLDER THREADS   (needs `npm run compile-tests`)
 */
const readline = require('readline');
const { loadModel } = require('../../out/src/engine/loadModel');
const { inspect } = require('../../out/src/engine/inspect');
const { WasmCpuBackend } = require('../../out/src/engine/cpu/wasm/wasmBackend');
const { benchIds } = require('./benchIds');
const { sampleLastLayer } = require('../agreement');

const [folder, threads] = process.argv.slice(2);
const loaded = loadModel(folder);
const backend = new WasmCpuBackend({ threads: Number(threads) });
const mb = (bytes) => Math.round(bytes / 2 ** 20);

async function forward({ tokens, format, keep, check }) {
  const kept = [];
  let layers = 0;
  let sample;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  await inspect(loaded, backend, { ids: benchIds(tokens, loaded.model.info.vocabSize) }, { logits: true, probabilityFormat: format }, {
    onEvent: (event) => {
      if (event.type !== 'attention') return;
      layers++;
      if (keep) kept.push(event.probsF16 ?? event.probs);
      if (check && event.layer === loaded.model.info.numLayers - 1) sample = sampleLastLayer(event.probs, event.numHeads, tokens);
    },
  });
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  return { ms, cpu_ms: (cpu.user + cpu.system) / 1000, layers, wasm_mb: mb(backend.peakMemoryBytes), check: sample };
}

const lines = readline.createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true, backend: backend.description.name })}\n`);
// Requests run one after another, even when several lines arrive at once.
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const request = JSON.parse(line);
    const reply = request.peak
      ? { peak_mb: mb(process.resourceUsage().maxRSS * 1024), wasm_mb: mb(backend.peakMemoryBytes) }
      : await forward(request);
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
});
lines.on('close', () => queue.then(() => {
  backend.dispose();
  process.exit(0);
}));
