/**
 * The standalone report in a real browser (headless Debian Chromium through playwright-core): written
 * by the CLI (`inspect --html`) as a user would, opened from disk with no network, every view driven
 * and checked through the DOM, exports downloaded, and screenshots kept under test-output/report/.
 * Without Chromium the suite skips locally and fails in CI.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { AttentionStack } from '../../src/protocol/messages';
import type { AttentionRun } from '../../src/view-model/attentionRun';
import type { Layer } from '../../src/view-model/generation';
import { appState, cliReport, settled, expectedLinks, reportBrowserForSuite, REPORT_OUT as OUT, type Styled } from '../helpers/reportBrowser';
import { sharedPath } from '../helpers/shared';

function stackLayer(run: AttentionRun, stack: AttentionStack, layer: number): Layer {
  const found = run.layerData(stack, layer);
  assert.ok(found, `${stack} layer ${layer} is in the report, with its weights`);
  return found;
}

describe('standalone report in headless Chromium', function () {
  const browser = reportBrowserForSuite();

  const open = (file: string) => browser().open(file);

  it('shows llama-stories260K on a 201-token story: all 5 layers × 8 heads, every view', async () => {
    const file = path.join(OUT, 'llama-story.html');
    const story = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'story_200.json'), 'utf8')).text as string;
    const { run: layers } = cliReport(file, '--model', sharedPath('models', 'llama-stories260K'), '--text', story);
    assert.strictEqual(layers.layersReceived, 5);
    const { page, errors } = await open(file);

    // Head view: both token columns (one `.token` per token, the contract), one swatch per head.
    assert.deepStrictEqual(await appState(page), { state: 'done', tokenCount: '201', layersReceived: '5' });
    assert.strictEqual(await page.locator('#app .token').count(), 201);
    assert.strictEqual(await page.locator('.hv-token[data-side="query"]').count(), 201);
    assert.strictEqual(await page.locator('.hv-token[data-side="key"]').count(), 201);
    assert.strictEqual(await page.locator('.head-swatch').count(), 8);
    await page.screenshot({ path: path.join(OUT, 'llama-head.png') });

    // Lock a query: exactly the links the view model selects for it, and its keys highlighted.
    const query = 40;
    await page.locator(`#main-query-${query}`).scrollIntoViewIfNeeded();
    await page.locator(`#main-query-${query}`).click();
    await settled(page);
    const expected = expectedLinks(stackLayer(layers, 'self', 0), { side: 'query', index: query });
    assert.ok(expected.length > 0 && expected.every((l) => l.key <= query), 'causal: links only to earlier keys');
    assert.strictEqual(await page.locator('.hv-links').getAttribute('data-link-count'), String(expected.length));
    assert.strictEqual(await page.locator('.hv-token.locked').count(), 1);
    const highlighted = await page.locator('.hv-token[data-side="key"]').evaluateAll((els) => (els as unknown as Styled[]).filter((e) => e.style.backgroundColor).map((e) => Number(e.dataset.index)));
    assert.ok(highlighted.length > 0 && highlighted.every((j) => j <= query), `highlighted keys ${highlighted}`);
    await page.screenshot({ path: path.join(OUT, 'llama-head-locked.png') });

    // Head view exports: one SVG line per link drawn, and a PNG of the same scene.
    const [headSvg] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("SVG")')]);
    await headSvg.saveAs(path.join(OUT, 'llama-head-export.svg'));
    const svgLines = fs.readFileSync(path.join(OUT, 'llama-head-export.svg'), 'utf8').match(/<line /g) ?? [];
    assert.strictEqual(svgLines.length, expected.length);
    const [headPng] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("PNG")')]);
    await headPng.saveAs(path.join(OUT, 'llama-head-export.png'));
    assert.deepStrictEqual([...fs.readFileSync(path.join(OUT, 'llama-head-export.png')).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    // Solo a head (double-click): only its links remain; Escape unlocks.
    await page.locator('.head-swatch[data-head="3"]').dblclick();
    await settled(page);
    assert.deepStrictEqual(await page.locator('.head-swatch').evaluateAll((els) => els.map((e) => e.getAttribute('aria-pressed'))), ['false', 'false', 'false', 'true', 'false', 'false', 'false', 'false']);
    const soloLinks = Number(await page.locator('.hv-links').getAttribute('data-link-count'));
    assert.ok(soloLinks > 0 && soloLinks < expected.length, `solo ${soloLinks} of ${expected.length}`);
    await page.keyboard.press('Escape');
    await settled(page);
    assert.strictEqual(await page.locator('.hv-token.locked, .hv-token.focused').count(), 0);

    // Model view: 5 × 8 thumbnails; clicking one opens it in the matrix view.
    await page.click('#tab-model');
    await settled(page);
    assert.strictEqual(await page.locator('.mv-thumb canvas').count(), 40);
    await page.screenshot({ path: path.join(OUT, 'llama-model.png') });
    await page.click('.mv-thumb[data-layer="4"][data-head="2"]');
    await settled(page);
    assert.strictEqual(await page.locator('#tab-matrix').getAttribute('aria-selected'), 'true');
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /layer 4 · head 2 .*blank: masked/);

    // Matrix view: hovering a cell names query, key and weight; log scale redraws.
    const box = (await page.locator('.mv-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.8);
    // The report's weights are float16: a weight shown is marked ≈.
    assert.match((await page.locator('.mv-tooltip').textContent()) ?? '', /query “.+” \(\d+\) → key “.+” \(\d+\): (masked|0$|≈\d)/);
    await page.selectOption('select[aria-label="Color scale"]', 'log');
    await settled(page);
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /log scale/);
    await page.screenshot({ path: path.join(OUT, 'llama-matrix-log.png') });

    // Exports of the matrix view: SVG markup with the heatmap inside, a PNG, JSON of every layer.
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("SVG")')]);
    const svgText = fs.readFileSync((await svg.path())!, 'utf8');
    assert.match(svgText, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svgText, /<image [^>]*href="data:image\/png;base64,/);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("PNG")')]);
    assert.deepStrictEqual([...fs.readFileSync((await png.path())!).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("JSON")')]);
    const matrices = JSON.parse(fs.readFileSync((await json.path())!, 'utf8'));
    assert.strictEqual(matrices.layers.length, 5);
    assert.deepStrictEqual(matrices.layers[0].shape, [8, 201, 201]);
    // The report keeps float16 weights: a row sums to 1 within their rounding.
    assert.ok(Math.abs(matrices.layers[2].attentions[5][100].reduce((a: number, b: number) => a + b, 0) - 1) < 2e-3);

    // Step by step: every key of the chosen query, the formula, and the engine's output reproduced.
    await page.click('#tab-computation');
    await settled(page);
    assert.match((await page.locator('.formula').textContent()) ?? '', /softmax\(QKᵀ \/ √dₖ \+ M\) · V/);
    assert.strictEqual(await page.locator('.cv-table tbody tr:not(.sum)').count(), 64);
    const difference = /largest difference ([\d.e+-]+)/.exec((await page.locator('.cv-output').textContent()) ?? '');
    assert.ok(difference && Number(difference[1]) < 1e-4, `head output difference ${difference?.[1]}`);
    await page.screenshot({ path: path.join(OUT, 'llama-computation.png'), fullPage: true });

    // Words merged and <s> hidden: fewer display tokens, rows still distributions.
    await page.click('#tab-head');
    await settled(page);
    await page.getByLabel('Hide special tokens').check();
    await settled(page);
    await page.getByLabel('Merge subwords into words').check();
    await settled(page);
    const words = await page.locator('.hv-token[data-side="query"]').count();
    assert.ok(words > 80 && words < 201, `${words} words`);
    await page.screenshot({ path: path.join(OUT, 'llama-head-words.png') });
    assert.deepStrictEqual(errors, []);
    await page.close();
  });

  it('shows the demo model’s cross-attention (encoder-decoder run)', async () => {
    const file = path.join(OUT, 'demo-cross.html');
    const { run: layers } = cliReport(file, '--model', 'demo', '--text', '那天雨很大', '--target-text', 'It rained heavily that day');
    const { page, errors } = await open(file);
    assert.strictEqual((await appState(page)).layersReceived, '3');
    await page.click('#tab-cross');
    await settled(page);
    assert.deepStrictEqual(await page.locator('.hv-token[data-side="query"]').allTextContents(), ['It', 'rained', 'heavily', 'that', 'day']);
    assert.strictEqual(await page.locator('.hv-token[data-side="key"]').count(), 5);
    await page.hover('#cross-query-2');
    await settled(page);
    const expected = expectedLinks(stackLayer(layers, 'cross', 0), { side: 'query', index: 2 });
    assert.ok(expected.length > 8);
    assert.strictEqual(await page.locator('.hv-links').getAttribute('data-link-count'), String(expected.length));
    await page.screenshot({ path: path.join(OUT, 'demo-cross.png') });
    // The report re-saves itself as a working report.
    const [html] = await Promise.all([page.waitForEvent('download'), page.click('button.export:text("HTML")')]);
    const saved = path.join(OUT, 'demo-cross-resaved.html');
    fs.copyFileSync((await html.path())!, saved);
    const again = await open(saved);
    assert.strictEqual((await appState(again.page)).layersReceived, '3');
    assert.deepStrictEqual([...errors, ...again.errors], []);
    await again.page.close();
    await page.close();
  });
});
