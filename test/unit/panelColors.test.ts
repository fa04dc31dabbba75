/** Colors and scales of the panel: linear and log weight scales, the heat ramp, theme color parsing, heatmap pixels. */
import * as assert from 'assert';
import { headColor, heatRamp, LOG_FLOOR, parseColor, rampIndex, scaleWeight } from '../../src/view-model/colors';
import { heatPixels } from '../../src/view-model/heatmap';

describe('panel colors and scales', () => {
  it('maps weights linearly against the largest weight shown', () => {
    assert.strictEqual(scaleWeight(0, 0.5, 'linear'), 0);
    assert.strictEqual(scaleWeight(0.25, 0.5, 'linear'), 0.5);
    assert.strictEqual(scaleWeight(0.5, 0.5, 'linear'), 1);
    assert.strictEqual(scaleWeight(0.7, 0.5, 'linear'), 1);
  });

  it('maps weights logarithmically from LOG_FLOOR to the top', () => {
    assert.strictEqual(scaleWeight(LOG_FLOOR, 1, 'log'), 0);
    assert.strictEqual(scaleWeight(LOG_FLOOR / 10, 1, 'log'), 0);
    assert.strictEqual(scaleWeight(1, 1, 'log'), 1);
    assert.ok(Math.abs(scaleWeight(0.01, 1, 'log') - 0.5) < 1e-12);
    // Small weights that linear scaling hides stay visible in log.
    assert.ok(scaleWeight(0.001, 1, 'log') > 0.2 && scaleWeight(0.001, 1, 'linear') < 0.01);
  });

  it('treats zero, negative and NaN as the bottom of the scale', () => {
    for (const mode of ['linear', 'log'] as const) {
      assert.strictEqual(scaleWeight(0, 1, mode), 0);
      assert.strictEqual(scaleWeight(-1, 1, mode), 0);
      assert.strictEqual(scaleWeight(NaN, 1, mode), 0);
      assert.strictEqual(scaleWeight(0.5, 0, mode), 0);
    }
  });

  it('builds a ramp from the background to the heat color', () => {
    const ramp = heatRamp([255, 255, 255], [0, 100, 200]);
    assert.deepStrictEqual(Array.from(ramp.subarray(0, 4)), [255, 255, 255, 255]);
    assert.deepStrictEqual(Array.from(ramp.subarray(255 * 4)), [0, 100, 200, 255]);
    assert.strictEqual(rampIndex(0.5), 128);
    assert.strictEqual(rampIndex(2), 255);
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

  it('stripes the causal mask region and colors the rest by weight', () => {
    // 4×4 causal matrix: row i attends uniformly to keys 0..i.
    const data = new Float32Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j <= i; j++) data[i * 4 + j] = 1 / (i + 1);
    const ramp = heatRamp([255, 255, 255], [0, 0, 0]);
    const heat = heatPixels({ data, rows: 4, cols: 4, maxPixels: 64, scale: 'linear', ramp, background: [255, 255, 255], mask: [0, 0, 255], masked: (lastRow, firstCol) => firstCol > lastRow });
    const pixel = (r: number, c: number) => Array.from(heat.pixels.subarray((r * 4 + c) * 4, (r * 4 + c) * 4 + 4));
    assert.strictEqual(heat.max, 1);
    assert.deepStrictEqual(pixel(0, 0), [0, 0, 0, 255]);
    const masked = pixel(0, 3);
    assert.ok(masked[2] === 255 && masked[0] < 255, `mask pixel ${masked}`);
    assert.ok(pixel(3, 0)[0] > 0 && pixel(3, 0)[0] < 255);
  });
});
