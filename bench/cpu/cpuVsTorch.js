#!/usr/bin/env node
/**
 * Our CPU backend (WebAssembly SIMD kernels) against PyTorch eager, side by side in one invocation.
 *
 * GPT-2 small with random weights (written by randomModel.js to a temporary safetensors folder, read
 * by both sides), all attention probabilities returned (output_attentions) plus logits, at T = 128
 * and 512 on the same number of threads. Each side is a long-lived process answering "run T" (see
 * ourPeer.js, torchPeer.py); after a warm-up the runs alternate between the two, so both see the same
 * machine load. Medians of the runs, the ratio ours / PyTorch and each side's peak resident memory.
 * Then a 4,096-token run of a Llama-shaped model (12 q / 4 kv heads) on our backend alone, with
 * float16 probabilities streamed layer by layer, reporting its time and peak memory.
 *
 * Usage: npm run bench:cpu -- [--json FILE] [--threads 2[,1]] [--runs N] [--tokens 128,512] [--long 4096|0] [--no-setup]
 * (--threads: one comparison per count, default one thread per core; the long run uses the first.)
 * The setup (bench/cpu/setup.sh) installs Debian's python3-torch and OpenBLAS once.
 * bench/cpu/results.json is a run on the 2-core development machine at low load (see its load_*).
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { agreement } = require('../agreement');
const { median, round, startPeer, startTorchPeer } = require('../peers');

const HERE = __dirname;

function options(argv) {
  const o = { json: null, threads: [os.availableParallelism()], runs: 5, tokens: [128, 512], long: 4096, setup: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    if (flag === '--json') o.json = value();
    else if (flag === '--threads') o.threads = value().split(',').map(Number);
    else if (flag === '--runs') o.runs = Number(value());
    else if (flag === '--tokens') o.tokens = value().split(',').map(Number);
    else if (flag === '--long') o.long = Number(value());
    else if (flag === '--no-setup') o.setup = false;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!(o.runs >= 5)) throw new Error('--runs must be at least 5');
  return o;
}

async function compare(folder, tokens, threads, runs) {
  const ours = startPeer(process.execPath, [path.join(HERE, 'ourPeer.js'), folder, String(threads)]);
  const torch = startTorchPeer(folder, threads);
  const [oursInfo, torchInfo] = [await ours.ready, await torch.ready];
  const ourRequest = { tokens, format: 'f32', keep: true };
  // Warm-up (packs the weights, compiles the kernels at full tier), checking that both sides agree.
  const [ourCheck, torchCheck] = [(await ours.request({ ...ourRequest, check: true })).check, (await torch.request({ tokens, check: true })).check];
  const agreed = agreement(ourCheck, torchCheck);
  const oursRuns = [];
  const torchRuns = [];
  for (let run = 0; run < runs; run++) {
    // Alternate who goes first so that neither side always follows the other's cache footprint.
    const order = run % 2 ? [[torch, { tokens }, torchRuns], [ours, ourRequest, oursRuns]] : [[ours, ourRequest, oursRuns], [torch, { tokens }, torchRuns]];
    for (const [peer, request, runs] of order) runs.push(await peer.request(request));
  }
  const [oursMs, torchMs] = [oursRuns, torchRuns].map((runs) => runs.map((r) => r.ms));
  const [oursCpu, torchCpu] = [oursRuns, torchRuns].map((runs) => median(runs.map((r) => r.cpu_ms)));
  const [oursPeak, torchPeak] = [await ours.request({ peak: true }), await torch.request({ peak: true })];
  await Promise.all([ours.close(), torch.close()]);
  const result = {
    T: tokens, threads, ours_ms: round(median(oursMs)), pytorch_ms: round(median(torchMs)),
    ratio: round(median(oursMs) / median(torchMs), 2), peak_mb: oursPeak.peak_mb, pytorch_peak_mb: torchPeak.peak_mb,
    wasm_mb: oursPeak.wasm_mb, ours_runs_ms: oursMs.map((x) => round(x)), pytorch_runs_ms: torchMs.map((x) => round(x)),
    // CPU time of all threads: on a machine shared with other work, wall time also measures waiting.
    ours_cpu_ms: round(oursCpu), pytorch_cpu_ms: round(torchCpu), cpu_ratio: round(oursCpu / torchCpu, 2),
    agreement: agreed,
  };
  console.log(`T=${tokens}, ${threads} threads: ours ${result.ours_ms} ms (${oursInfo.backend}), PyTorch ${result.pytorch_ms} ms (${torchInfo.backend}),`
    + ` ratio ${result.ratio} (CPU time ${result.ours_cpu_ms} vs ${result.pytorch_cpu_ms} ms, ${result.cpu_ratio});`
    + ` peak ${result.peak_mb} MB (kernel memory ${result.wasm_mb} MB) vs ${result.pytorch_peak_mb} MB;`
    + ` last layer ${agreed.agree ? 'agrees' : 'DISAGREES'}: max |Δp| ${agreed.max_abs_diff.toExponential(1)}, mean row max ${agreed.mean_row_max}`);
  if (!agreed.agree) process.exitCode = 1;
  return result;
}

async function longRun(folder, tokens, threads) {
  const ours = startPeer(process.execPath, [path.join(HERE, 'ourPeer.js'), folder, String(threads)]);
  const info = await ours.ready;
  await ours.request({ tokens: 128, format: 'f16', keep: false });
  const reply = await ours.request({ tokens, format: 'f16', keep: false });
  const peak = await ours.request({ peak: true });
  await ours.close();
  const result = {
    model: 'llama-shaped (12 layers, 12 q / 4 kv heads, d 768, vocab 32000)', T: tokens, threads, ours_ms: round(reply.ms),
    layers: reply.layers, probability_format: 'f16, streamed per layer', peak_mb: peak.peak_mb, wasm_mb: peak.wasm_mb,
  };
  console.log(`Llama-shaped T=${tokens}, ${threads} threads (${info.backend}): ${result.ours_ms} ms, ${result.layers} layers,`
    + ` peak ${result.peak_mb} MB (kernel memory ${result.wasm_mb} MB)`);
  return result;
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.setup) execFileSync('bash', [path.join(HERE, 'setup.sh')], { stdio: 'inherit' });
  const load = () => os.loadavg().map((x) => round(x, 2));
  const machine = { cpus: os.availableParallelism(), cpu_model: os.cpus()[0]?.model, node: process.version, load_before: load() };
  console.log(`CPU benchmark on ${machine.cpus} cores (${machine.cpu_model}), load average ${machine.load_before.join(' ')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-cpu-bench-'));
  try {
    const gpt2 = path.join(tmp, 'gpt2');
    execFileSync(process.execPath, [path.join(HERE, 'randomModel.js'), 'gpt2', gpt2], { stdio: 'inherit' });
    const cases = [];
    for (const threads of o.threads) for (const tokens of o.tokens) cases.push(await compare(gpt2, tokens, threads, o.runs));
    fs.rmSync(gpt2, { recursive: true });
    let long = null;
    if (o.long > 0) {
      const llama = path.join(tmp, 'llama');
      execFileSync(process.execPath, [path.join(HERE, 'randomModel.js'), 'llama', llama], { stdio: 'inherit' });
      long = await longRun(llama, o.long, o.threads[0]);
    }
    machine.load_after = load();
    if (o.json) fs.writeFileSync(o.json, `${JSON.stringify({ machine, cases, long_run: long }, null, 2)}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
