#!/usr/bin/env node
/**
 * `npm run bench:analysis`: the analysis of one run of a GPT-2-small-shaped random model (peaked
 * attention, written by bench/cpu/randomModel.js) at T = 1,024, on the CPU, beside the forward pass
 * that produced it. Timed over the float16 probabilities the panel stores: the head-role scores of all
 * 144 heads, and the rollout (each layer's mixing, then the product of the 12). Issue 17's goal is the
 * scores in at most 1 s. Also the flow into the last position at the flow limit (256 tokens).
 * Medians of --runs after one warm-up. The fast side is checked: a few heads against the definitions
 * (headRoleSpec), a few rollout rows against a vector pushed down the layers one by one.
 *
 * Usage: npm run bench:analysis -- [--tokens 1024] [--runs 5] [--model DIR] [--json FILE]
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const out = (file) => require(path.join(__dirname, '..', '..', 'out', 'src', 'engine', file));
const { loadModel } = out('loadModel');
const { inspect } = out('inspect');
const { WasmCpuBackend } = out('cpu/wasm/wasmBackend');
const { layerHeadRoles } = out('analysis/headRoles');
const spec = out('analysis/headRoleSpec');
const { stackLayout } = out('analysis/probabilities');
const { residualMix, attentionRollout } = out('analysis/rollout');
const { RunAnalysis, FLOW_MAX_TOKENS } = out('analysis/runAnalysis');
const { benchIds } = require('../cpu/benchIds');

const GOAL_MS = 1000;

function options(argv) {
  const o = { tokens: 1024, runs: 5, model: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i];
    if (argv[i] === '--tokens') o.tokens = Number(value());
    else if (argv[i] === '--runs') o.runs = Number(value());
    else if (argv[i] === '--model') o.model = value();
    else if (argv[i] === '--json') o.json = value();
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
function timed(runs, work) {
  work(); // warm-up: compile the hot loops
  const ms = [];
  let result;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    result = work();
    ms.push(performance.now() - started);
  }
  return { ms: median(ms), result };
}

/** One forward pass keeping every layer's float16 probabilities. */
async function forward(loaded, backend, tokens) {
  const ids = benchIds(tokens, loaded.model.info.vocabSize);
  const layers = [];
  const started = performance.now();
  await inspect(loaded, backend, { ids }, { probabilityFormat: 'f16' }, { onEvent: (e) => void (e.type === 'attention' && layers.push(e)) });
  return { ids, layers, ms: performance.now() - started };
}

/** Largest difference between the fast pass and the definitions on three heads, and between rollout rows and e_i·Â_L⋯Â_1 done row by row. */
function check(layers, layout, roles, mixes, rollout) {
  let worst = 0;
  const note = (a, b) => (worst = Math.max(worst, Number.isNaN(a) && Number.isNaN(b) ? 0 : Math.abs(a - b)));
  for (const [l, h] of [[0, 0], [layers.length >> 1, 5], [layers.length - 1, layers[0].numHeads - 1]]) {
    const A = spec.headOf(layers[l], h);
    note(roles[l].previousToken[h], spec.previousTokenScore(A, layout));
    note(roles[l].entropy[h], spec.entropyScore(A));
    note(roles[l].entropyNormalised[h], spec.normalisedEntropyScore(A, layout));
    note(roles[l].meanDistance[h], spec.meanDistanceScore(A, layout));
    note(roles[l].duplicateToken[h], spec.duplicateTokenScore(A, layout));
    note(roles[l].sinkShare[h], spec.sinkOf(A).share);
  }
  const T = rollout.rows;
  for (const i of [0, T >> 1, T - 1]) {
    let row = new Float64Array(T);
    row[i] = 1;
    for (let l = mixes.length - 1; l >= 0; l--) {
      const next = new Float64Array(T);
      for (let k = 0; k < T; k++) if (row[k]) for (let j = 0; j < T; j++) next[j] += row[k] * mixes[l].data[k * T + j];
      row = next;
    }
    for (let j = 0; j < T; j++) note(rollout.data[i * T + j], row[j]);
  }
  return worst;
}

async function main() {
  const o = options(process.argv.slice(2));
  const scratch = o.model ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-analysis-bench-'));
  const folder = o.model ?? path.join(scratch, 'gpt2');
  try {
    if (scratch) execFileSync(process.execPath, [path.join(__dirname, '..', 'cpu', 'randomModel.js'), 'gpt2', folder], { stdio: 'inherit' });
    const loaded = loadModel(folder);
    const { info } = loaded.model;
    const backend = new WasmCpuBackend();
    const run = await forward(loaded, backend, o.tokens);
    const layout = stackLayout('self', info, run.ids);
    const scores = timed(o.runs, () => run.layers.map((layer) => layerHeadRoles(layer, layout)));
    const mixing = timed(o.runs, () => run.layers.map((layer) => residualMix(layer, layout)));
    const product = timed(o.runs, () => attentionRollout(mixing.result));
    const worst = check(run.layers, layout, scores.result, mixing.result, product.result);

    // Flow at its limit, on a shorter run of the same model.
    const short = await forward(loaded, backend, Math.min(FLOW_MAX_TOKENS, o.tokens));
    const analysis = new RunAnalysis(info, short.ids);
    short.layers.forEach((layer) => analysis.add(layer));
    const flow = timed(1, () => analysis.flowInto(short.ids.length - 1));
    backend.dispose();

    const rolloutMs = mixing.ms + product.ms;
    const rows = [
      [`forward pass, ${o.tokens} tokens, float16 probabilities`, run.ms],
      [`head-role scores, ${run.layers.length * info.numHeads} heads`, scores.ms],
      ['rollout: each layer\'s mixing', mixing.ms],
      [`rollout: product of ${run.layers.length} layers`, product.ms],
      ['scores + rollout', scores.ms + rolloutMs],
      [`flow into the last of ${short.ids.length} tokens (${short.ids.length} max-flows)`, flow.ms],
    ];
    console.log(`\nanalysis of ${info.name === 'gpt2' ? 'a GPT-2-small-shaped random model' : info.name} (${run.layers.length} layers × ${info.numHeads} heads) on ${backend.description.name}, ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)}; medians of ${o.runs}`);
    for (const [what, ms] of rows) console.log(`  ${what.padEnd(58)}${ms.toFixed(0).padStart(7)} ms${ms === run.ms ? '' : `   ${(ms / run.ms).toFixed(3)}× forward`}`);
    const met = (ms) => (ms <= GOAL_MS ? 'met' : `NOT met (${(ms / GOAL_MS).toFixed(2)}× the goal)`);
    console.log(`  goal ≤ ${GOAL_MS} ms: scores ${met(scores.ms)}; scores + rollout ${met(scores.ms + rolloutMs)}`);
    console.log(`  check: fast pass vs definitions on 3 heads and 3 rollout rows vs a row-by-row chain: max |Δ| ${worst.toExponential(1)}`);
    if (worst > 1e-9) throw new Error(`the fast analysis disagrees with its definitions by ${worst}`);
    if (o.json) {
      fs.writeFileSync(o.json, `${JSON.stringify({ tokens: o.tokens, load: os.loadavg()[0], timings_ms: Object.fromEntries(rows), check_max_difference: worst }, null, 1)}\n`);
    }
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
