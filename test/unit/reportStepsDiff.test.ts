/**
 * The panel's generation stepper and its comparison with a baseline, in standalone reports opened by
 * headless Chromium: a generation report written by the CLI (`inspect --generate 20 --html`), and a
 * comparison report built with the report API (two demo runs, the first pinned as the baseline of the
 * second). Screenshots go to test-output/report/.
 */
import * as assert from 'assert';
import * as path from 'path';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { LayerMessage, ReplayMessage } from '../../src/protocol/messages';
import { ReportBuilder, loadReportAssets } from '../../src/report/reportHtml';
import { finishedMessage, layerMessage, startedMessage } from '../../src/store/runMessages';
import type { AttentionRun } from '../../src/view-model/attentionRun';
import { baselineOf, DiffSource, largestChanges } from '../../src/view-model/diff';
import { stepRow } from '../../src/view-model/generation';
import { DEFAULT_SELECTION, selectionForRun } from '../../src/view-model/selection';
import { ViewDataSource, viewParameters } from '../../src/view-model/viewData';
import { appState, cliReport, settled, expectedLinks, reportBrowserForSuite, readReport, REPORT_OUT as OUT, ROOT } from '../helpers/reportBrowser';
import { sharedPath } from '../helpers/shared';
import { StoredRun } from '../helpers/storedRun';

/** A finished demo run of `text`, as the host keeps it. */
async function demoRun(model: 'demo' | 'demo-causal', text: string): Promise<AttentionRun> {
  const loaded = loadModel(model);
  const info = loaded.model.info;
  const stored = new StoredRun();
  const summary = await inspect(loaded, new ReferenceBackend(), { text }, {}, {
    onStart: (s) => stored.accept(startedMessage(1, { ...s, model: info, backend: { used: 'cpu', adapter: 'CPU', fallbackReason: null } }, { source: text })),
    onEvent: (e) => void (e.type === 'attention' && stored.accept({ ...layerMessage(1, e, info), probs: e.probs })),
  });
  stored.accept(finishedMessage(1, summary.timings));
  return stored.run;
}

/** A report of `run` compared with `baseline`, as the host's export writes it. */
function comparisonReport(file: string, run: AttentionRun, baseline: AttentionRun): void {
  const builder = new ReportBuilder();
  try {
    for (const [part, r] of [['run', run], ['baseline', baseline]] as const) {
      for (const m of r.messages()) if (m.type === 'layer') builder.addLayer(part, m, r.withTensors(m as LayerMessage)!.probs);
    }
    const messages: ReplayMessage[] = [...run.messages(), { type: 'baseline', runId: 1, baseline: baselineOf(baseline)! }];
    builder.write(file, messages, loadReportAssets(ROOT), 'Attention — comparison', baseline.messages());
  } finally {
    builder.dispose();
  }
}

/** Runs in the page before the report: records each value #app's data-generated takes, in order. */
const RECORD_GENERATED = `
  const seen = (globalThis.generatedSeen = []);
  new MutationObserver(() => {
    const value = document.getElementById('app')?.dataset.generated;
    if (value !== undefined && seen[seen.length - 1] !== value) seen.push(value);
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-generated'] });`;

describe('standalone report: generation stepping and comparison with a baseline', function () {
  const browser = reportBrowserForSuite();

  it('steps through 20 tokens llama-stories260K generated after “Once upon a time”', async () => {
    const file = path.join(OUT, 'llama-generate.html');
    const { run } = cliReport(file, '--model', sharedPath('models', 'llama-stories260K'), '--text', 'Once upon a time', '--generate', '20');
    const generated = run.generated();
    assert.strictEqual(generated.length, 20);
    const promptLength = run.started!.source.tokens.length;
    // Record every value data-generated takes while the report replays: the text grows step by step.
    const { page, errors } = await browser().open(file, (p) => p.addInitScript({ content: RECORD_GENERATED }));
    const seen = await page.evaluate(() => (globalThis as unknown as { generatedSeen: string[] }).generatedSeen);
    assert.deepStrictEqual(seen, Array.from({ length: 21 }, (_, i) => String(i)), 'one more token per step');

    // The Generation view opens on the newest step: text, stepper and every layer × head of the step.
    assert.deepStrictEqual(await appState(page), { state: 'done', tokenCount: String(promptLength), layersReceived: '5', generated: '20', step: '19' });
    assert.strictEqual(await page.locator('#tab-steps').getAttribute('aria-selected'), 'true');
    assert.strictEqual(await page.locator('.gen-token').count(), 20);
    assert.strictEqual(await page.locator('.gen-prompt').textContent(), 'Once upon a time');
    assert.match((await page.locator('.gen-tokens').textContent()) ?? '', /^, there was a little/);
    assert.strictEqual(await page.locator('#step-slider').getAttribute('max'), '19');
    assert.strictEqual(await page.locator('#step-slider').getAttribute('aria-label'), 'Generated token');
    assert.strictEqual(await page.locator('.step-grid').count(), 1);
    assert.match((await page.locator('.sg-caption').textContent()) ?? '', /Self-attention: 5 layers × 8 heads, 24 keys/);
    await page.screenshot({ path: path.join(OUT, 'llama-generate-steps.png'), fullPage: true });

    // Keyboard on the slider, the buttons and a click on a token of the text all choose the step.
    await page.focus('#step-slider');
    await settled(page);
    await page.keyboard.press('Home');
    await settled(page);
    assert.strictEqual((await appState(page)).step, '0');
    assert.match((await page.locator('#step-caption').textContent()) ?? '', /^Token 1 of 20: “,”, generated after “␣time” attended to 5 tokens/);
    assert.match((await page.locator('.sg-caption').textContent()) ?? '', /5 keys/);
    await page.keyboard.press('ArrowRight');
    await settled(page);
    await page.click('#step-next');
    await settled(page);
    assert.strictEqual((await appState(page)).step, '2');
    assert.strictEqual(await page.locator('#step-previous').isDisabled(), false);
    await page.click('.gen-token[data-step="5"]');
    await settled(page);
    assert.strictEqual((await appState(page)).step, '5');
    assert.strictEqual(await page.locator('.gen-token.current').getAttribute('data-step'), '5');

    // The head view shows the step as its locked query row: exactly that row's links over the tokens so far.
    await page.click('#tab-head');
    await settled(page);
    const row = stepRow('decoder-only', promptLength, 5);
    assert.strictEqual(await page.locator('.hv-token.locked').getAttribute('id'), `main-query-${row}`);
    const expected = expectedLinks(run.layerData('self', 0)!, { side: 'query', index: row });
    assert.ok(expected.length > 0 && expected.every((l) => l.key <= row));
    assert.strictEqual(await page.locator('.hv-links').getAttribute('data-link-count'), String(expected.length));
    assert.strictEqual(await page.locator('#app .token').count(), promptLength + 19, 'the prompt and every token fed back');
    await page.screenshot({ path: path.join(OUT, 'llama-generate-head.png') });

    // The matrix view: the full lower-triangular matrix assembled from the steps.
    await page.click('#tab-matrix');
    await settled(page);
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /blank: masked/);
    await page.screenshot({ path: path.join(OUT, 'llama-generate-matrix.png') });
    assert.deepStrictEqual(errors, []);
    await page.close();
  });

  it('steps through an encoder-decoder generation: decoder self-attention and cross-attention per step', async () => {
    const file = path.join(OUT, 't5-generate.html');
    cliReport(file, '--model', sharedPath('models', 't5-tiny-random'), '--text', 'Hello world', '--generate', '4');
    const { page, errors } = await browser().open(file);
    assert.strictEqual((await appState(page)).generated, '4');
    assert.deepStrictEqual(await page.locator('.sg-caption').allTextContents().then((t) => t.map((c) => c.split(':')[0])), ['Decoder masked self-attention', 'Cross-attention over the source']);
    await page.click('#step-previous');
    await settled(page);
    assert.match((await page.locator('#step-caption').textContent()) ?? '', /attended to 3 decoder tokens and 8 source tokens/);
    await page.click('#tab-cross');
    await settled(page);
    assert.strictEqual(await page.locator('#cross-query-2.locked').count(), 1, 'the step’s decoder token is the locked query');
    assert.deepStrictEqual(errors, []);
    await page.close();
  });

  it('shows what changed since a pinned baseline, and refuses a baseline of another model', async () => {
    const before = await demoRun('demo', 'The quick brown fox jumps over the lazy dog');
    const after = await demoRun('demo', 'The slow brown fox jumps over the lazy dog');
    const file = path.join(OUT, 'demo-compare.html');
    comparisonReport(file, after, before);
    const { page, errors } = await browser().open(file);
    await page.waitForSelector('#app[data-compare="on"]');
    assert.match((await page.locator('.diff-description').textContent()) ?? '', /Baseline: “The quick brown fox jumps over the lazy dog” \(9 tokens\)/);
    assert.deepStrictEqual(await page.locator('.removed-token').allTextContents(), ['“quick” (1)']);
    assert.deepStrictEqual(await page.locator('.hv-token.added').allTextContents(), ['slow', 'slow'], 'the new token, as query and as key');

    // The largest change listed first is the one computed here from the same (float16) weights as the page's.
    const read = readReport(file);
    const run = read.run;
    const s = selectionForRun(DEFAULT_SELECTION, run.started!.model.numHeads, ['self']);
    const data = new ViewDataSource().get(run, s)!;
    const [top] = largestChanges(new DiffSource().get(run, read.baseline!, viewParameters(s), data)!, data, data.heads, 1);
    const first = page.locator('.diff-change').first();
    assert.strictEqual(await first.getAttribute('data-delta'), top.delta.toFixed(6));
    assert.strictEqual(await page.locator('.diff-change').count(), 8);
    await first.click();
    await settled(page);
    assert.strictEqual(await page.locator('.hv-token.locked').getAttribute('id'), `main-query-${top.query}`);
    assert.ok(Number(await page.locator('.hv-links').getAttribute('data-link-count')) > 0);
    assert.match((await page.locator('.hv-summary').textContent()) ?? '', /changed most toward/);
    await page.screenshot({ path: path.join(OUT, 'demo-compare-head.png') });

    await page.click('#tab-matrix');
    await settled(page);
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /change since the baseline.*orange: more, blue: less/);
    const box = (await page.locator('.mv-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.5);
    assert.match((await page.locator('.mv-tooltip').textContent()) ?? '', /\(baseline [\d.e-]+, change [+−][\d.e-]+\)|nothing to compare/);
    await page.screenshot({ path: path.join(OUT, 'demo-compare-matrix.png') });

    // Switched off in the panel: the plain run again.
    await page.uncheck('#diff-toggle');
    await settled(page);
    assert.strictEqual((await appState(page)).compare, 'off');
    assert.doesNotMatch((await page.locator('.matrix-view .legend').textContent()) ?? '', /baseline/);
    assert.deepStrictEqual(errors, []);
    await page.close();

    // A baseline of another model: a clear message, and no difference drawn.
    const mismatched = path.join(OUT, 'demo-compare-other-model.html');
    comparisonReport(mismatched, after, await demoRun('demo-causal', 'The quick brown fox jumps over the lazy dog'));
    const second = await browser().open(mismatched);
    await second.page.waitForSelector('#app[data-compare="problem"]');
    assert.match((await second.page.locator('.diff-problem').textContent()) ?? '', /Not compared: the baseline comes from demo-causal .*this run from demo/);
    assert.strictEqual(await second.page.locator('.hv-token.added').count(), 0);
    assert.deepStrictEqual(second.errors, []);
    await second.page.close();
  });
});
