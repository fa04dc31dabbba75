/** The panel's geometry: head view rows and virtualization, matrix cells, the model grid, thumbnails. */
import * as assert from 'assert';
import { cellAt, downsample, gridLayout, headLayout, labelWidthFor, matrixLayout, renderedRows, rowY, VIRTUALIZE_ABOVE, visibleRows } from '../../src/view-model/layout';

describe('panel layout', () => {
  const layout = headLayout({ queryCount: 10, keyCount: 12, width: 500, rowHeight: 20, labelWidth: 80, top: 30 });

  it('puts queries left, keys right, links between them, and sizes to the longer column', () => {
    assert.strictEqual(layout.queryX, 0);
    assert.strictEqual(layout.keyX, 420);
    assert.ok(layout.linkStartX > layout.queryX + layout.labelWidth - 1 && layout.linkStartX < layout.linkEndX);
    assert.ok(layout.linkEndX < layout.keyX);
    assert.strictEqual(layout.height, 30 + 12 * 20);
    assert.strictEqual(rowY(layout, 0), 40);
    assert.strictEqual(rowY(layout, 3), 100);
  });

  it('shrinks labels rather than the link span in a narrow panel', () => {
    const narrow = headLayout({ queryCount: 3, keyCount: 3, width: 200, rowHeight: 20, labelWidth: 200, top: 0 });
    assert.ok(narrow.linkEndX - narrow.linkStartX >= 40, `span ${narrow.linkEndX - narrow.linkStartX}`);
    assert.ok(narrow.keyX + narrow.labelWidth <= 200 + 1e-9);
  });

  it('computes the visible rows with overscan, clamped to the list', () => {
    assert.deepStrictEqual(visibleRows(0, 100, 30, 20, 2048, 0), { start: 0, end: 4 });
    assert.deepStrictEqual(visibleRows(1000, 200, 30, 20, 2048, 2), { start: 46, end: 61 });
    assert.deepStrictEqual(visibleRows(1e6, 200, 30, 20, 100, 2), { start: 100, end: 100 });
  });

  it('renders short lists whole and long ones around the viewport', () => {
    const visible = { start: 40, end: 80 };
    assert.deepStrictEqual(renderedRows(VIRTUALIZE_ABOVE, visible), { start: 0, end: VIRTUALIZE_ABOVE });
    assert.deepStrictEqual(renderedRows(2048, visible), visible);
  });

  it('estimates label widths within bounds', () => {
    assert.strictEqual(labelWidthFor(['a'], 7), 40);
    assert.strictEqual(labelWidthFor(['abcdefghij'], 7), 82);
    assert.strictEqual(labelWidthFor(['x'.repeat(500)], 7), 220);
  });

  it('lays out square matrix cells and maps points back to cells', () => {
    const m = matrixLayout(4, 8, 400, 300, 80, 11);
    assert.strictEqual(m.cell, 40);
    assert.strictEqual(m.labelStep, 1);
    assert.deepStrictEqual(cellAt(m, 80, 80), { row: 0, col: 0 });
    assert.deepStrictEqual(cellAt(m, 80 + 40 * 7 + 39, 80 + 40 * 3 + 39), { row: 3, col: 7 });
    assert.strictEqual(cellAt(m, 79, 100), null);
    assert.strictEqual(cellAt(m, 80 + 320, 100), null);
  });

  it('thins matrix labels when cells are smaller than the font', () => {
    const m = matrixLayout(2048, 2048, 900, 900, 100, 11);
    assert.ok(m.cell < 1);
    assert.ok(m.labelStep * m.cell >= 13);
  });

  it('fits the model grid to the width within thumbnail bounds', () => {
    assert.deepStrictEqual(gridLayout(8, 1000), { columns: 8, thumb: 118, gap: 6 });
    assert.strictEqual(gridLayout(8, 200).thumb, 48);
    assert.strictEqual(gridLayout(2, 5000).thumb, 160);
  });

  it('max-pools large matrices so that a single strong cell survives', () => {
    const rows = 100, cols = 100;
    const data = new Float32Array(rows * cols);
    data[57 * cols + 91] = 0.9;
    const small = downsample(data, rows, cols, 10);
    assert.deepStrictEqual([small.rows, small.cols], [10, 10]);
    assert.strictEqual(small.data[5 * 10 + 9], Math.fround(0.9));
    assert.strictEqual(small.data.filter((v) => v > 0).length, 1);
    assert.strictEqual(downsample(data, rows, cols, 200).data, data);
  });
});
