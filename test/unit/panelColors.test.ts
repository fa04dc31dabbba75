/** Colors and scales of the panel: linear and log weight scales, the heat ramp in every theme, legends, theme color parsing, heatmap pixels. */
import * as assert from 'assert';
import { changeTicks, contrastRatio, headColor, logFloor, luminance, parseColor, rampIndex, scaleTicks, scaleWeight, sequentialRamp, type Rgb } from '../../src/view-model/colors';
import { heatPixels } from '../../src/view-model/heatmap';
import { maskTest, windowTest } from '../../src/view-model/viewData';

describe('panel colors and scales', () => {
  it('maps weights linearly against the largest weight shown', () => {
    assert.strictEqual(scaleWeight(0, 0.5, 'linear'), 0);
    assert.strictEqual(scaleWeight(0.25, 0.5, 'linear'), 0.5);
    assert.strictEqual(scaleWeight(0.5, 0.5, 'linear'), 1);
    assert.strictEqual(scaleWeight(0.7, 0.5, 'linear'), 1);
  });

  it('maps weights logarithmically from the floor to the top', () => {
    const floor = 1e-4;
    assert.strictEqual(scaleWeight(floor, 1, 'log', floor), 0);
    assert.strictEqual(scaleWeight(floor / 10, 1, 'log', floor), 0);
    assert.strictEqual(scaleWeight(1, 1, 'log', floor), 1);
    assert.ok(Math.abs(scaleWeight(0.01, 1, 'log', floor) - 0.5) < 1e-12);
    // Small weights that linear scaling hides stay visible in log.
    assert.ok(scaleWeight(0.001, 1, 'log', floor) > 0.2 && scaleWeight(0.001, 1, 'linear') < 0.01);
  });

  it('puts the log floor a hundredth below the uniform weight, so long rows stay inside the scale', () => {
    assert.strictEqual(logFloor(10), 1e-3);
    assert.ok(Math.abs(logFloor(1024) - 0.01 / 1024) < 1e-15);
    assert.strictEqual(logFloor(1e9), 1e-6);
    // At 1,024 tokens a uniform row (1/1024) sits two decades above the bottom: visibly colored.
    const uniform = scaleWeight(1 / 1024, 1, 'log', logFloor(1024));
    assert.ok(uniform > 0.35 && uniform < 0.45, `uniform row at ${uniform}`);
  });

  it('treats zero, negative and NaN as the bottom of the scale', () => {
    for (const mode of ['linear', 'log'] as const) {
      assert.strictEqual(scaleWeight(0, 1, mode), 0);
      assert.strictEqual(scaleWeight(-1, 1, mode), 0);
      assert.strictEqual(scaleWeight(NaN, 1, mode), 0);
      assert.strictEqual(scaleWeight(0.5, 0, mode), 0);
    }
  });

  // Editor backgrounds of VS Code's Dark Modern, Light Modern, High Contrast and High Contrast Light themes.
  const BACKGROUNDS: [string, Rgb, boolean][] = [['dark', [31, 31, 31], true], ['light', [255, 255, 255], false], ['high contrast', [0, 0, 0], true], ['high contrast light', [255, 255, 255], false]];
  const entry = (ramp: Uint8ClampedArray, i: number): Rgb => [ramp[i * 4], ramp[i * 4 + 1], ramp[i * 4 + 2]];

  for (const [theme, background, dark] of BACKGROUNDS) {
    it(`the heat ramp reads in the ${theme} theme: near the background at 0, high contrast at the top, lightness monotonic`, () => {
      const ramp = sequentialRamp(dark);
      assert.ok(contrastRatio(entry(ramp, 0), background) < 1.4, `weight 0 stays near the background: ${entry(ramp, 0)}`);
      assert.ok(contrastRatio(entry(ramp, 255), background) >= 7, `the top stands out: ${entry(ramp, 255)} on ${background}`);
      for (let i = 1; i < 256; i++) {
        const step = luminance(entry(ramp, i)) - luminance(entry(ramp, i - 1));
        assert.ok(dark ? step >= -1e-3 : step <= 1e-3, `entry ${i}: lightness turns back (${step})`);
      }
    });
  }

  it('uses inferno: black to pale yellow on dark backgrounds, reversed on light ones', () => {
    assert.deepStrictEqual(entry(sequentialRamp(true), 0), [0, 0, 4]);
    assert.deepStrictEqual(entry(sequentialRamp(true), 255), [252, 255, 164]);
    assert.deepStrictEqual(entry(sequentialRamp(false), 0), [252, 255, 164]);
    assert.deepStrictEqual(entry(sequentialRamp(false), 255), [0, 0, 4]);
    assert.strictEqual(rampIndex(0.5), 128);
    assert.strictEqual(rampIndex(2), 255);
  });

  it('labels the legend with the scale range: 0 to the top (linear), powers of ten up to the top (log), ± the largest change', () => {
    assert.deepStrictEqual(scaleTicks(0.8, 'linear'), [{ at: 0, label: '0' }, { at: 0.5, label: '0.4' }, { at: 1, label: '0.8' }]);
    const log = scaleTicks(0.5, 'log', 1e-5);
    assert.deepStrictEqual(log.map((t) => t.label), ['1e-5', '1e-4', '1e-3', '1e-2', '1e-1', '0.5']);
    assert.strictEqual(log[0].at, 0);
    assert.strictEqual(log[log.length - 1].at, 1);
    for (const tick of log.slice(0, -1)) assert.ok(Math.abs(tick.at - scaleWeight(Number(tick.label), 0.5, 'log', 1e-5)) < 1e-12);
    assert.deepStrictEqual(scaleTicks(1, 'log', 1e-3).map((t) => t.label), ['1e-3', '1e-2', '1e-1', '1']);
    assert.deepStrictEqual(changeTicks(0.25).map((t) => t.label), ['−0.25', '0', '+0.25']);
  });

  it('parses the color forms getComputedStyle returns', () => {
    assert.deepStrictEqual(parseColor('#1e1e1e'), [30, 30, 30]);
    assert.deepStrictEqual(parseColor('#fff'), [255, 255, 255]);
    assert.deepStrictEqual(parseColor('#3794ffcc'), [55, 148, 255]);
    assert.deepStrictEqual(parseColor(' rgb(1, 2, 3)'), [1, 2, 3]);
    assert.deepStrictEqual(parseColor('rgba(10, 20, 30, 0.5)'), [10, 20, 30]);
    assert.strictEqual(parseColor('transparent'), undefined);
    assert.strictEqual(parseColor(''), undefined);
  });

  it('gives the first heads distinct colors', () => {
    const colors = new Set(Array.from({ length: 16 }, (_, h) => headColor(h).join(',')));
    assert.strictEqual(colors.size, 16);
  });

  it('leaves the causal mask region blank and colors the rest by weight', () => {
    // 4×4 causal matrix: row i attends uniformly to keys 0..i.
    const data = new Float32Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j <= i; j++) data[i * 4 + j] = 1 / (i + 1);
    const ramp = sequentialRamp(false);
    const heat = heatPixels({ data, rows: 4, cols: 4, maxPixels: 64, scale: 'linear', ramp, background: [250, 250, 250], masked: (lastRow, firstCol) => firstCol > lastRow });
    const pixel = (r: number, c: number) => Array.from(heat.pixels.subarray((r * 4 + c) * 4, (r * 4 + c) * 4 + 4));
    assert.strictEqual(heat.max, 1);
    assert.deepStrictEqual(pixel(0, 0), [0, 0, 4, 255]);
    for (const [r, c] of [[0, 1], [0, 3], [2, 3]]) assert.deepStrictEqual(pixel(r, c), [250, 250, 250, 255], `masked (${r}, ${c}) is the background`);
    assert.ok(pixel(3, 0)[0] > 0 && pixel(3, 0)[0] < 252);
  });

  it('draws the cells outside a sliding window in the band color, apart from the blank causal mask', () => {
    // 6 tokens, causal, window 2: query i sees keys i − 1 and i.
    const n = 6, window = 2;
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = Math.max(0, i - window + 1); j <= i; j++) data[i * n + j] = 1 / Math.min(i + 1, window);
    const positions = Int32Array.from({ length: n }, (_, i) => i);
    const shape = { causal: true, window, queryFirst: positions, queryLast: positions, keyFirst: positions, keyLast: positions };
    const heat = heatPixels({ data, rows: n, cols: n, maxPixels: 64, scale: 'linear', ramp: sequentialRamp(false), background: [250, 250, 250], band: [200, 200, 200], masked: maskTest(shape), outsideWindow: windowTest(shape) });
    const pixel = (r: number, c: number) => Array.from(heat.pixels.subarray((r * n + c) * 4, (r * n + c) * 4 + 3));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const expected = j > i ? 'blank' : j <= i - window ? 'band' : 'weight';
        const got = pixel(i, j).join() === '250,250,250' ? 'blank' : pixel(i, j).join() === '200,200,200' ? 'band' : 'weight';
        assert.strictEqual(got, expected, `cell (${i}, ${j})`);
      }
    }
  });
});
