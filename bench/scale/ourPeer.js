#!/usr/bin/env node
/**
 * Our side of bench:scale, as the editor runs a model: the engine process (dist/engineWorker.js) streams
 * the layers, the host keeps them in a RunStore, and the head view's first paint (layer 0, every head)
 * is answered by the DataService as soon as layer 0 is stored. One JSON request per stdin line:
 *   {"tokens": T} → {"first_layer_ms", "first_paint_ms", "total_ms", "first_paint_bytes", "store_mb",
 *                    "report_mb", "report_ms", "layers", "host_peak_run_mb"}
 *   {"peak": true} → {"host_peak_mb", "engine_peak_mb"}: peak resident memory of the host side (this
 *                   process, the report included) and of the engine's own process (its VmHWM, on Linux).
 * Usage: node bench/scale/ourPeer.js FOLDER   (needs `npm run pretest`: dist/ and out/)
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const root = path.resolve(__dirname, '..', '..');
const { EngineClient } = require(path.join(root, 'out/src/engine/worker/engineClient'));
const { RunStore } = require(path.join(root, 'out/src/store/runStore'));
const { AttentionRun } = require(path.join(root, 'out/src/view-model/attentionRun'));
const { DataService } = require(path.join(root, 'out/src/view-model/dataService'));
const { ReportBuilder, loadReportAssets } = require(path.join(root, 'out/src/report/reportHtml'));
const { finishedMessage, layerMessage, startedMessage } = require(path.join(root, 'out/src/store/runMessages'));
const { VIEW_ROW_CHUNK } = require(path.join(root, 'out/src/protocol/data'));
const { benchIds } = require('../cpu/benchIds');

const [folder] = process.argv.slice(2);
const client = new EngineClient(path.join(root, 'dist', 'engineWorker.js'));
const vocabSize = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')).vocab_size;
const mb = (bytes) => Math.round(bytes / 2 ** 20);
/** The engine process's peak resident bytes (Linux /proc; 0 elsewhere, or before it starts). */
function enginePeakBytes() {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${client.enginePid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
}
const json = (value) => Buffer.byteLength(JSON.stringify(value));
const hostPeakBytes = () => process.resourceUsage().maxRSS * 1024;
/** Above this many values a view is asked for in chunks of rows (WINDOW_ABOVE in webview/dataClient.ts). */
const WINDOW_ABOVE = 2 ** 21;

/**
 * The queries of the head view's first paint (webview/dataClient.ts `windowed`, the default selection:
 * layer 0, every head shown one by one): the whole view while it is small, else the chunks of rows in
 * sight (the first, VIEW_ROW_CHUNK rows) and the one a scroll reaches next.
 */
function firstPaintQueries(heads, tokens) {
  const view = { kind: 'view', stack: 'self', layer: 0, layerReduction: 'single', headMode: 'each', heads: Array.from({ length: heads }, (_, h) => h), hideSpecial: false, mergeWords: false, compare: false };
  if (heads * tokens * tokens <= WINDOW_ABOVE) return [view];
  return [0, 1].map((chunk) => ({ ...view, rows: { start: chunk * VIEW_ROW_CHUNK, end: Math.min(tokens, (chunk + 1) * VIEW_ROW_CHUNK) } }))
    .filter((q) => q.rows.start < tokens);
}

async function run(tokens) {
  const store = new RunStore();
  const run = new AttentionRun(store);
  const service = new DataService(run);
  const started = performance.now();
  let info, firstPaint, firstPaintBytes = 0, layers = 0;
  const result = await client.inspect({ model: folder, backend: 'cpu', input: { ids: benchIds(tokens, vocabSize) }, wants: { packedProbabilities: true } }, {
    onStart: (s) => {
      info = s.model;
      const message = startedMessage(1, s, {});
      run.accept(message);
      firstPaintBytes += json(message);
    },
    onEvent: (event) => {
      if (event.type !== 'attention') return;
      const message = layerMessage(1, event, info);
      store.write(message, event.probs, undefined, event.packed);
      run.accept(message);
      layers++;
      if (firstPaint) return;
      firstPaintBytes += json(message);
      const queries = firstPaintQueries(info.numHeads, event.queryLength);
      firstPaint = Promise.all(queries.map((q) => service.answer(q)))
        .then((replies) => ({ ms: performance.now() - started, bytes: replies.reduce((n, r) => n + r.matrices.values.byteLength, 0) }));
    },
  });
  const total = performance.now() - started;
  const paint = await firstPaint;
  const hostPeakRun = hostPeakBytes();
  run.accept(finishedMessage(1, result.timings));
  const reportStarted = performance.now();
  const builder = new ReportBuilder();
  const file = path.join(os.tmpdir(), `bench-scale-report-${process.pid}.html`);
  let reportBytes;
  try {
    for (const m of run.messages()) if (m.type === 'layer') builder.addLayer('run', m, run.withTensors(m).probs);
    reportBytes = builder.write(file, run.messages(), loadReportAssets(root), 'bench:scale');
  } finally {
    builder.dispose();
    fs.rmSync(file, { force: true });
  }
  const reply = {
    first_layer_ms: result.timings.firstLayerMs + result.timings.tokenizeMs, first_paint_ms: paint.ms, total_ms: total,
    first_paint_bytes: firstPaintBytes + paint.bytes, store_mb: mb(store.bytes), report_mb: reportBytes / 2 ** 20,
    report_ms: performance.now() - reportStarted, layers, host_peak_run_mb: mb(hostPeakRun),
  };
  store.dispose();
  return reply;
}

const lines = readline.createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true, backend: 'our engine worker, CPU backend' })}\n`);
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const request = JSON.parse(line);
    const reply = request.peak ? { host_peak_mb: mb(hostPeakBytes()), engine_peak_mb: mb(enginePeakBytes()) } : await run(request.tokens);
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
});
lines.on('close', () => queue.then(async () => {
  await client.dispose();
  process.exit(0);
}));
