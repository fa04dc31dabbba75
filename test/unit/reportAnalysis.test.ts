/**
 * The analysis views of a standalone report in headless Chromium (written by the CLI as a user would):
 * the Heads view against `analyze --json` and against value-weighted scores computed here from the
 * report's own layers, a head opened alone in the Head view, a rollout cell against the chain computed
 * here, and the logit lens's last row against transformers' own predictions in the fixtures.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { base64ToBytes } from '../../src/protocol/codec';
import type { AttentionStack } from '../../src/protocol/messages';
import type { AttentionRun } from '../../src/view-model/attentionRun';
import { tokenLabel } from '../../src/view-model/tokens';
import { appState, cliReport, reportBrowserForSuite, REPORT_OUT as OUT, ROOT, settled } from '../helpers/reportBrowser';
import { sharedPath } from '../helpers/shared';

const LLAMA = sharedPath('models', 'llama-stories260K');

/** The top entry of a [layer][head] table. */
function top(table: readonly (readonly (number | null)[])[]): { layer: number; head: number; value: number } {
  let best = { layer: -1, head: -1, value: -Infinity };
  table.forEach((heads, layer) => heads.forEach((value, head) => value !== null && value > best.value && (best = { layer, head, value })));
  return best;
}

/** Each layer's value norms [heads, keys] as the report carries them. */
function reportValueNorms(file: string, run: AttentionRun, stack: AttentionStack): Float32Array[] {
  const html = fs.readFileSync(file, 'utf8');
  return Array.from({ length: run.layerCount(stack) }, (_, l) => {
    const element = new RegExp(`"key":"${stack}\\|${l}\\|0","content":"value-norms","encoding":"f32-deflate-raw","element":"([^"]+)"`).exec(html)?.[1];
    assert.ok(element, `the report carries ${stack} layer ${l}'s value norms`);
    const text = new RegExp(`<script id="${element}" type="application/octet-stream">([^<]*)</script>`).exec(html)![1];
    const bytes = zlib.inflateRawSync(base64ToBytes(text));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  });
}

/** Value-weighted previous-token score of every head, computed here from the report's weights and norms. */
function valueWeightedPreviousToken(run: AttentionRun, norms: Float32Array[]): number[][] {
  return norms.map((n, l) => {
    const layer = run.layerData('self', l)!;
    const T = layer.keyLength;
    return Array.from({ length: layer.numHeads }, (_, h) => {
      let sum = 0;
      for (let i = 1; i < T; i++) {
        let total = 0;
        for (let j = 0; j <= i; j++) total += layer.probs[(h * T + i) * T + j] * n[h * T + j];
        sum += (layer.probs[(h * T + i) * T + i - 1] * n[h * T + i - 1]) / total;
      }
      return sum / (T - 1);
    });
  });
}

/** Rollout computed here, the naive way: Â_l = ½·mean_h A + ½·I rows renormalised, R = Â_L ⋯ Â_1. */
function naiveRollout(run: AttentionRun, stack: AttentionStack): number[][] {
  let rollout: number[][] | undefined;
  for (let l = 0; l < run.layerCount(stack); l++) {
    const layer = run.layerData(stack, l)!;
    const T = layer.keyLength, H = layer.numHeads;
    const mix = Array.from({ length: T }, (_, i) => {
      const row = Array.from({ length: T }, (_, j) => (Array.from({ length: H }, (_, h) => layer.probs[(h * T + i) * T + j]).reduce((a, b) => a + b, 0) / H) / 2 + (i === j ? 0.5 : 0));
      const total = row.reduce((a, b) => a + b, 0);
      return row.map((x) => x / total);
    });
    rollout = rollout ? mix.map((row) => rollout![0].map((_, j) => row.reduce((s, x, k) => s + x * rollout![k][j], 0))) : mix;
  }
  return rollout!;
}

describe('standalone report: the analysis views in headless Chromium', function () {
  this.timeout(180000);
  const browser = reportBrowserForSuite();

  it('llama-stories260K: Heads, rollout and logit lens show what analyze, the report’s weights and transformers say', async () => {
    const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'once_upon.json'), 'utf8'));
    const file = path.join(OUT, 'llama-analysis.html');
    const { run } = cliReport(file, '--model', LLAMA, '--text', meta.text);
    const analyzed = path.join(OUT, 'llama-analysis.json');
    execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'analyze', '--model', LLAMA, '--text', meta.text, '--backend', 'cpu', '--json', analyzed], { stdio: 'ignore' });
    const expected = JSON.parse(fs.readFileSync(analyzed, 'utf8')).heads.self;
    const { page, errors } = await browser().open(file);
    assert.strictEqual((await appState(page)).state, 'done');

    // Heads view: induction first, every head on the grid and in the ranking.
    await page.click('#tab-heads');
    await settled(page);
    assert.strictEqual(await page.locator('.hs-score').inputValue(), 'induction');
    assert.strictEqual(await page.locator('.hs-cell').count(), 40);
    assert.strictEqual(await page.locator('.hs-rank tbody tr').count(), 40);
    const firstRow = () => page.locator('.hs-rank tbody tr').first();
    const shownTop = async () => ({ head: await firstRow().locator('.hs-open').textContent(), value: Number(await firstRow().locator('.hs-value').textContent()) });
    const induction = top(expected.induction);
    const inductionTop = await shownTop();
    assert.strictEqual(inductionTop.head, `L${induction.layer}H${induction.head}`);
    assert.ok(Math.abs(inductionTop.value - induction.value) <= 1e-3, `induction ${inductionTop.value} vs analyze's ${induction.value}`);
    await page.screenshot({ path: path.join(OUT, 'llama-heads.png') });

    // Previous-token, from the report's float16 weights: analyze's within their rounding.
    await page.selectOption('.hs-score', 'previous_token');
    await settled(page);
    const previous = top(expected.previous_token);
    const previousTop = await shownTop();
    assert.strictEqual(previousTop.head, `L${previous.layer}H${previous.head}`);
    assert.ok(Math.abs(previousTop.value - previous.value) <= 2e-3, `previous-token ${previousTop.value} vs analyze's ${previous.value}`);

    // Value-weighted: the scores of the attention times ‖W_O,h · v_j‖, as computed here.
    await page.getByLabel('Value-weighted').check();
    await settled(page);
    assert.match((await page.locator('.heads-view .legend').textContent()) ?? '', /value-weighted/);
    const weighted = top(valueWeightedPreviousToken(run, reportValueNorms(file, run, 'self')));
    const weightedTop = await shownTop();
    assert.strictEqual(weightedTop.head, `L${weighted.layer}H${weighted.head}`);
    assert.ok(Math.abs(weightedTop.value - weighted.value) <= 1e-3, `value-weighted previous-token ${weightedTop.value} vs ${weighted.value}`);
    assert.notStrictEqual(weightedTop.value, previousTop.value);
    await page.getByLabel('Value-weighted').uncheck();
    assert.match(await page.locator('label:has(.hide-sinks)').getAttribute('title') ?? '', /No attention sink detected/);

    // Clicking the top induction head opens it alone, in its layer, in the Head view.
    await page.selectOption('.hs-score', 'induction');
    await settled(page);
    await firstRow().locator('.hs-open').click();
    await settled(page);
    assert.strictEqual(await page.locator('#tab-head').getAttribute('aria-selected'), 'true');
    const pressed = await page.locator('.head-swatch').evaluateAll((els) => els.map((e) => e.getAttribute('aria-pressed') === 'true'));
    assert.deepStrictEqual(pressed, Array.from({ length: 8 }, (_, h) => h === induction.head));
    assert.strictEqual(await page.locator('select[aria-label="Layer"]').inputValue(), `${induction.layer}`);

    // Rollout: a hovered cell holds the chain's value computed here.
    await page.click('#tab-rollout');
    await settled(page);
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /rollout through 5 layers · all heads/);
    const rollout = naiveRollout(run, 'self');
    const box = (await page.locator('.mv-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.9);
    const cell = /\((\d+)\) → key “.+” \((\d+)\): ([\d.e-]+)/.exec((await page.locator('.mv-tooltip').textContent()) ?? '');
    assert.ok(cell, 'the tooltip names a visible cell');
    const [row, col, value] = [Number(cell[1]), Number(cell[2]), Number(cell[3])];
    assert.ok(Math.abs(value - rollout[row][col]) < 1e-3, `rollout[${row}][${col}] ${value} vs ${rollout[row][col]}`);
    await page.screenshot({ path: path.join(OUT, 'llama-rollout.png') });

    // Logit lens: embeddings and 5 layers by 16 positions; the last row is transformers' prediction.
    await page.click('#tab-lens');
    await settled(page);
    assert.strictEqual(await page.locator('.lv-grid tbody tr').count(), 6);
    assert.strictEqual(await page.locator('.lv-cell').count(), 6 * 16);
    const vocab = JSON.parse(fs.readFileSync(path.join(LLAMA, 'tokenizer.json'), 'utf8')).model.vocab as Record<string, number>;
    const pieces = new Map(Object.entries(vocab).map(([piece, id]) => [id, piece]));
    const predicted = await page.locator('.lv-cell[data-layer="5"] .lv-token').allTextContents();
    assert.deepStrictEqual(predicted, meta.argmax_logits.map((id: number) => tokenLabel(pieces.get(id)!)));
    await page.hover('.lv-cell[data-layer="3"][data-position="7"]');
    const lines = ((await page.locator('.lv-tooltip').textContent()) ?? '').split('\n');
    assert.deepStrictEqual([lines[0], lines.length], ['layer 2, position 7', 6]);
    await page.screenshot({ path: path.join(OUT, 'llama-lens.png') });
    assert.deepStrictEqual(errors, []);
    await page.close();
  });

  it('t5-tiny-random: the cross-attention rollout and the decoder’s logit lens', async () => {
    const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', 't5-tiny-random', 'zh_en_rain.json'), 'utf8'));
    const file = path.join(OUT, 't5-analysis.html');
    cliReport(file, '--model', sharedPath('models', 't5-tiny-random'), '--text', meta.source_text, '--target-text', meta.target_text);
    const { page, errors } = await browser().open(file);
    await page.click('#tab-rollout');
    await page.selectOption('select[aria-label="Attention"]', 'cross');
    await settled(page);
    assert.match((await page.locator('.matrix-view .legend').textContent()) ?? '', /rollout through 2 layers \(decoder, from the source tokens\)/);
    await page.click('#tab-lens');
    await settled(page);
    assert.strictEqual(await page.locator('.lv-grid tbody tr').count(), 3);
    assert.strictEqual(await page.locator('.lv-grid thead .lv-position').count(), meta.labels.length);
    await page.click('#tab-heads');
    await page.selectOption('select[aria-label="Attention"]', 'decoder');
    await settled(page);
    assert.strictEqual(await page.locator('.hs-cell').count(), 2 * 4);
    assert.deepStrictEqual(errors, []);
    await page.close();
  });
});
