#!/usr/bin/env node
/**
 * WebGPU against the CPU backend, side by side in one process: GPT-2 small (12 layers, 12 heads,
 * d 768, vocab 50257) with random weights, written to a temporary safetensors folder by
 * bench/cpu/randomModel.js and read through the normal loader, at T = 128 and 512 with every
 * attention probability kept until the pass ends (as output_attentions) plus the logits.
 * Each backend runs one untimed warm-up pass at the first T (weights upload, pipelines compile), then
 * timed passes alternate between the two so both see the same machine load: 5 at T = 128 and 3 at
 * T = 512 (a pass on a software adapter takes tens of seconds there). Reports medians, WebGPU / CPU time ratios,
 * the time to the first layer, and matmul GFLOP/s of each backend on the model's linear shapes.
 *
 * Usage: npm run bench:webgpu -- [--json FILE] [--tokens 128,512] [--model FOLDER]
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadModel } = require('../../out/src/engine/loadModel');
const { inspect } = require('../../out/src/engine/inspect');
const { createCpuBackend } = require('../../out/src/engine/cpu/createCpuBackend');
const { WebGpuBackend } = require('../../out/src/engine/webgpu/webgpuBackend');
const { benchIds } = require('../cpu/benchIds');
const { agreement, sampleLastLayer } = require('../agreement');

const RUNS = (tokens) => (tokens <= 128 ? 5 : 3);
const MATMUL_REPEATS = 4;

function options(argv) {
  const o = { json: null, tokens: [128, 512], model: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    if (flag === '--json') o.json = value();
    else if (flag === '--tokens') o.tokens = value().split(',').map(Number);
    else if (flag === '--model') o.model = value();
    else throw new Error(`unknown option ${flag}; usage: npm run bench:webgpu -- [--json FILE] [--tokens 128,512] [--model FOLDER]`);
  }
  return o;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** One forward pass; returns its time, the time to the first attention layer (ms) and a sample of the last layer. */
async function pass(loaded, backend, tokens) {
  const kept = [];
  const last = loaded.model.info.numLayers - 1;
  let sample;
  const started = performance.now();
  let firstLayer = 0;
  await inspect(loaded, backend, { ids: benchIds(tokens, loaded.model.info.vocabSize) }, { logits: true }, {
    onEvent: (event) => {
      if (event.type !== 'attention') return;
      if (!firstLayer) firstLayer = performance.now() - started;
      kept.push(event.probs);
      if (event.layer === last) sample = sampleLastLayer(event.probs, event.numHeads, tokens);
    },
  });
  if (kept.length !== loaded.model.info.numLayers) throw new Error(`expected ${loaded.model.info.numLayers} layers, got ${kept.length}`);
  return { ms: performance.now() - started, firstLayerMs: firstLayer, sample };
}

/** GFLOP/s of `repeats` back-to-back linear calls (one read at the end), median of 3. */
async function matmulGflops(backend, rows, inDim, outDim) {
  const random = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.02);
  const x = backend.fromFloat32(random(rows * inDim), [rows, inDim]);
  const w = backend.upload({ dtype: 'F32', shape: [outDim, inDim], data: random(outDim * inDim) });
  const times = [];
  for (let run = 0; run < 4; run++) {
    const started = performance.now();
    const outs = Array.from({ length: MATMUL_REPEATS }, () => backend.linear(x, w));
    await backend.read([outs[outs.length - 1]]);
    backend.release(outs);
    if (run > 0) times.push((performance.now() - started) / MATMUL_REPEATS);
  }
  backend.release([x, w]);
  return (2 * rows * inDim * outDim) / median(times) / 1e6;
}

async function main() {
  const o = options(process.argv.slice(2));
  let folder = o.model;
  let temporary = null;
  if (!folder) {
    temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gpt2-'));
    folder = temporary;
    process.stderr.write(`writing a random GPT-2 small to ${folder} …\n`);
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'cpu', 'randomModel.js'), 'gpt2', folder], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/cpu/randomModel.js failed');
  }
  const loaded = loadModel(folder);
  const cpu = createCpuBackend();
  let gpu;
  try {
    gpu = await WebGpuBackend.create();
  } catch (err) {
    cpu.dispose();
    throw new Error(`no WebGPU to benchmark: ${err.message}`);
  }
  const result = {
    model: 'GPT-2 small shape (12 layers, 12 heads, d 768, vocab 50257), random weights, f32; all probabilities + logits returned',
    cpu: cpu.description.name, webgpu: gpu.description.name, software_adapter: gpu.software,
    passes: [], matmul: [],
  };
  try {
    for (const [index, tokens] of o.tokens.entries()) {
      const runs = RUNS(tokens);
      process.stderr.write(`T=${tokens}: ${index ? '' : 'warm-up, then '}${runs} timed passes per backend, alternating …\n`);
      if (index === 0) {
        await pass(loaded, cpu, tokens);
        await pass(loaded, gpu, tokens);
      }
      const samples = { cpu: [], webgpu: [] };
      for (let run = 0; run < runs; run++) {
        samples.cpu.push(await pass(loaded, cpu, tokens));
        samples.webgpu.push(await pass(loaded, gpu, tokens));
      }
      const stat = (list, key) => round(median(list.map((s) => s[key])));
      const agreed = agreement(samples.webgpu[0].sample, samples.cpu[0].sample);
      if (!agreed.agree) process.exitCode = 1;
      const entry = {
        tokens, runs, agreement: agreed,
        cpu_ms: samples.cpu.map((s) => round(s.ms)), webgpu_ms: samples.webgpu.map((s) => round(s.ms)),
        cpu_median_ms: stat(samples.cpu, 'ms'), webgpu_median_ms: stat(samples.webgpu, 'ms'),
        cpu_first_layer_median_ms: stat(samples.cpu, 'firstLayerMs'), webgpu_first_layer_median_ms: stat(samples.webgpu, 'firstLayerMs'),
      };
      entry.webgpu_over_cpu = round(entry.webgpu_median_ms / entry.cpu_median_ms, 2);
      result.passes.push(entry);
    }
    for (const [rows, inDim, outDim] of [[128, 768, 3072], [512, 768, 2304]]) {
      process.stderr.write(`matmul ${rows}×${inDim} · ${inDim}×${outDim} …\n`);
      result.matmul.push({
        shape: `${rows}x${inDim} . ${inDim}x${outDim}`,
        cpu_gflops: round(await matmulGflops(cpu, rows, inDim, outDim), 2),
        webgpu_gflops: round(await matmulGflops(gpu, rows, inDim, outDim), 2),
      });
    }
  } finally {
    cpu.dispose();
    gpu.dispose();
    if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
  }
  print(result);
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(result, null, 1)}\n`);
}

function print(r) {
  const lines = [
    r.model,
    `CPU:    ${r.cpu}`,
    `WebGPU: ${r.webgpu}${r.software_adapter ? ' (software adapter: the "GPU" is emulated on the same CPU cores)' : ''}`,
    '',
    'T      runs  CPU median   WebGPU median  WebGPU / CPU   first layer CPU / WebGPU   last layer agrees (max |Δp|, mean row max)',
    ...r.passes.map((p) => `${String(p.tokens).padEnd(7)}${String(p.runs).padEnd(6)}${`${p.cpu_median_ms} ms`.padEnd(13)}${`${p.webgpu_median_ms} ms`.padEnd(15)}`
      + `${`${p.webgpu_over_cpu}×`.padEnd(15)}${`${p.cpu_first_layer_median_ms} / ${p.webgpu_first_layer_median_ms} ms`.padEnd(27)}`
      + `${p.agreement.agree ? 'yes' : 'NO'} (${p.agreement.max_abs_diff.toExponential(1)}, ${p.agreement.mean_row_max})`),
    '(fewer timed passes at T = 512: one WebGPU pass on a software adapter takes tens of seconds)',
    '',
    'matmul GFLOP/s      CPU      WebGPU',
    ...r.matmul.map((m) => `${m.shape.padEnd(20)}${String(m.cpu_gflops).padEnd(9)}${m.webgpu_gflops}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
