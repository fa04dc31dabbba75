/**
 * What the side-by-side benchmarks share: long-lived peer processes that answer one JSON line per
 * request (ours in Node, PyTorch's in Debian's Python on OpenMP OpenBLAS, see bench/cpu/setup.sh),
 * and the statistics they report.
 */
const { spawn } = require('child_process');
const path = require('path');
const readline = require('readline');

const PYTHON = '/usr/bin/python3';
/** OpenBLAS on OpenMP (see setup.sh): torch's BLAS and elementwise ops share one thread pool. */
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** A peer process speaking one JSON line per request and per reply; its first line says it is ready. */
function startPeer(command, args, env = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const waiting = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${path.basename(args[0])} exited with code ${code}`));
  });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = next();
  return {
    ready,
    request(body) {
      const reply = next();
      child.stdin.write(`${JSON.stringify(body)}\n`);
      return reply;
    },
    close() {
      child.stdin.end();
      return new Promise((resolve) => child.on('exit', resolve));
    },
  };
}

/** PyTorch eager on `folder` with `threads` threads (bench/cpu/torchPeer.py). */
function startTorchPeer(folder, threads) {
  return startPeer(PYTHON, [path.join(__dirname, 'cpu', 'torchPeer.py'), folder, String(threads)],
    { LD_LIBRARY_PATH: OPENBLAS_OPENMP, OMP_NUM_THREADS: String(threads) });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

module.exports = { startPeer, startTorchPeer, median, round };
