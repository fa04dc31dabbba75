#!/usr/bin/env node
/**
 * `npm run bench:scale`: real model shapes at real lengths, through the path the editor takes (engine
 * worker → run store → the panel's first view), side by side with PyTorch eager (output_attentions)
 * on the same weights file:
 * - GPT-2 small (124 M parameters, float32) at T = 128, 512, 1,024;
 * - a Qwen2.5-0.5B shape (494 M, bfloat16, 14 q / 2 kv heads) at T = 128, 512, 1,024 and 2,048.
 * Random weights with peaked attention (bench/cpu/randomModel.js), written once to a cache folder.
 * Each (model, T) runs in fresh processes after an untimed warm-up at T = 16, so peak memory is that
 * run's. Reported: time to the first layer (the engine's) and to the head view's first data (the
 * panel's first paint, its bytes counted), total time, peak resident memory of the host side (during
 * the run, and with the report) and of the engine's process, the run store's disk size, the HTML
 * report's size and time, and PyTorch's time and peak memory; then the goals, met or not.
 *
 * Usage: npm run bench:scale -- [--json FILE] [--models gpt2,qwen] [--tokens 1024,2048] [--threads N] [--no-torch]
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { round, startPeer, startTorchPeer } = require('../peers');

const HERE = __dirname;
const CACHE = path.join(process.env.ATTENTION_INSPECTOR_CACHE ?? path.join(os.homedir(), '.cache', 'attention-inspector'), 'bench-models');
const PLAN = {
  gpt2: { label: 'GPT-2 small (124 M, f32)', tokens: [128, 512, 1024] },
  qwen: { label: 'Qwen2.5-0.5B shape (494 M, bf16)', tokens: [128, 512, 1024, 2048] },
};

function options(argv) {
  const o = { json: null, models: Object.keys(PLAN), tokens: null, threads: os.availableParallelism(), torch: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    if (flag === '--json') o.json = value();
    else if (flag === '--models') o.models = value().split(',');
    else if (flag === '--tokens') o.tokens = value().split(',').map(Number);
    else if (flag === '--threads') o.threads = Number(value());
    else if (flag === '--no-torch') o.torch = false;
    else throw new Error(`unknown option ${flag}; usage: npm run bench:scale -- [--json FILE] [--models gpt2,qwen] [--tokens 1024,2048] [--threads N] [--no-torch]`);
  }
  return o;
}

/** The model folder, written once per machine (the weights take a minute to draw). */
function modelFolder(kind) {
  const folder = path.join(CACHE, `${kind}-v1`);
  if (!fs.existsSync(path.join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random ${PLAN[kind].label} to ${folder} …\n`);
    execFileSync(process.execPath, [path.join(HERE, '..', 'cpu', 'randomModel.js'), kind, folder], { stdio: 'inherit' });
  }
  return folder;
}

/** One side at one length, in fresh processes: a warm-up, the timed run, its peak memory. */
async function measure(peer, tokens) {
  await peer.ready;
  await peer.request({ tokens: 16 });
  const run = await peer.request({ tokens });
  const peaks = await peer.request({ peak: true });
  await peer.close();
  return { ...run, ...peaks };
}

async function main() {
  const o = options(process.argv.slice(2));
  execFileSync('bash', [path.join(HERE, '..', 'cpu', 'setup.sh')], { stdio: 'inherit' });
  const machine = { cpus: os.availableParallelism(), cpu_model: os.cpus()[0]?.model, node: process.version, load_before: os.loadavg().map((x) => round(x, 2)) };
  const results = [];
  for (const kind of o.models) {
    const folder = modelFolder(kind);
    const weightsMb = fs.statSync(path.join(folder, 'model.safetensors')).size / 2 ** 20;
    for (const tokens of PLAN[kind].tokens.filter((t) => !o.tokens || o.tokens.includes(t))) {
      process.stderr.write(`${PLAN[kind].label}, T=${tokens} …\n`);
      const ours = await measure(startPeer(process.execPath, [path.join(HERE, 'ourPeer.js'), folder]), tokens);
      const torch = o.torch ? await measure(startTorchPeer(folder, o.threads), tokens) : undefined;
      const row = {
        model: kind, T: tokens, weights_mb: round(weightsMb), load_1min: round(os.loadavg()[0], 2),
        ours: roundAll(ours), pytorch: torch && { ms: round(torch.ms), peak_mb: torch.peak_mb },
      };
      row.goals = goals(row, ours);
      results.push(row);
      print(row);
    }
  }
  machine.load_after = os.loadavg().map((x) => round(x, 2));
  if (o.json) fs.writeFileSync(o.json, `${JSON.stringify({ machine, results }, null, 1)}\n`);
}

function roundAll(values) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));
}

/** The goals at this size (each checked where the issue states it). */
function goals(row, ours) {
  const perLayer = ours.total_ms / ours.layers;
  const out = {
    first_paint_bytes_le_10mb: ours.first_paint_bytes <= 10 * 2 ** 20,
    first_layer_on_screen_le_1_5_layers_plus_300ms: ours.first_paint_ms <= 1.5 * perLayer + 300,
  };
  if (row.model === 'gpt2' && row.T === 1024) {
    // The weights are in the engine's process; the host side holds the run and builds the report.
    out.engine_peak_le_weights_plus_400mb = ours.engine_peak_mb <= row.weights_mb + 400;
    out.host_and_engine_peaks_le_weights_plus_400mb = ours.engine_peak_mb + ours.host_peak_mb <= row.weights_mb + 400;
    out.report_le_200mb = ours.report_mb <= 200;
  }
  return out;
}

function print(row) {
  const o = row.ours, t = row.pytorch;
  const torch = t ? `; PyTorch ${t.ms} ms (ours / PyTorch ${round(o.total_ms / t.ms, 2)}), peak ${t.peak_mb} MB` : '';
  const met = Object.entries(row.goals).map(([goal, ok]) => `${ok ? 'met' : 'NOT met'}: ${goal}`).join(', ');
  process.stdout.write(`${PLAN[row.model].label} T=${row.T}: first layer ${o.first_layer_ms} ms, first view ${o.first_paint_ms} ms `
    + `(${round(o.first_paint_bytes / 2 ** 20, 2)} MB to the panel), total ${o.total_ms} ms, peak RSS: engine ${o.engine_peak_mb} MB, `
    + `host ${o.host_peak_run_mb} MB in the run and ${o.host_peak_mb} MB with the report (weights ${row.weights_mb} MB), `
    + `store ${o.store_mb} MB on disk, report ${o.report_mb} MB in ${o.report_ms} ms${torch}\n  ${met}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
