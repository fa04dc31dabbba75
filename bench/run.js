#!/usr/bin/env node
/**
 * `npm run bench`: every engine benchmark in one invocation, each comparing side by side in its own
 * process — our CPU backend against PyTorch eager (bench/cpu, with the 4,096-token memory run), then
 * WebGPU against our CPU backend (bench/webgpu). With `--json FILE` the CPU comparison's
 * {"machine", "cases", "long_run"} is written with the WebGPU comparison under "webgpu".
 *
 * Usage: npm run bench -- [--json FILE]   (npm run bench:cpu / bench:webgpu take each one's own options)
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
if (args.length && !(args.length === 2 && jsonAt === 0)) {
  console.error('usage: npm run bench -- [--json FILE]');
  process.exit(2);
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-bench-'));
const run = (script, json) => execFileSync(process.execPath, [path.join(__dirname, script), '--json', json], { stdio: 'inherit' });
try {
  const cpuJson = path.join(scratch, 'cpu.json');
  const gpuJson = path.join(scratch, 'webgpu.json');
  run('cpu/cpuVsTorch.js', cpuJson);
  run('webgpu/webgpuVsCpu.js', gpuJson);
  if (jsonAt === 0) {
    const combined = { ...JSON.parse(fs.readFileSync(cpuJson, 'utf8')), webgpu: JSON.parse(fs.readFileSync(gpuJson, 'utf8')) };
    fs.writeFileSync(args[1], `${JSON.stringify(combined, null, 1)}\n`);
    console.log(`wrote ${args[1]}`);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
