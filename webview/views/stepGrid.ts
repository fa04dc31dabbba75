/**
 * One generation step's attention in every layer and head, matrix-view style: a heatmap whose rows are
 * (layer, head) and whose columns are the keys the step's token saw. Hovering or the arrow keys name the
 * cell (layer, head, key, weight).
 */
import { cssRgb, headColor, scaleTicks } from '../../src/view-model/colors';
import { heatPixels } from '../../src/view-model/heatmap';
import { labelWidthFor } from '../../src/view-model/layout';
import type { ScaleMode } from '../../src/view-model/colors';
import { fitCanvas, formatWeight, h } from '../dom';
import { Legend } from '../legend';
import type { Theme } from '../theme';

export interface StepGridData {
  /** "self-attention", "cross-attention". */
  readonly title: string;
  readonly layers: readonly number[];
  /** Head of each row within a layer block: its number, or null for an aggregate ("mean of 8 heads"). */
  readonly heads: readonly (number | null)[];
  readonly headLabel: string;
  readonly keys: readonly string[];
  /** [layers, heads, keys]. */
  readonly values: Float32Array;
  /** Key column of the query token itself (self-attention), bold in the labels. */
  readonly queryKey: number | null;
}

const FONT_SIZE = 11;
const LABEL_WIDTH = 64;
const LAYER_GAP = 6;

interface Cell {
  readonly layer: number;
  readonly head: number;
  readonly key: number;
}

export class StepGrid {
  readonly element = h('figure', { class: 'step-grid' });
  private readonly caption = h('figcaption', { class: 'sg-caption' });
  private readonly legend = new Legend();
  private readonly frame = h('div', { class: 'sg-frame' });
  private readonly canvas = h('canvas', { class: 'sg-canvas', tabindex: 0, role: 'img' });
  private readonly cursor = h('div', { class: 'sg-cursor', hidden: true });
  private readonly tooltip = h('div', { class: 'mv-tooltip', role: 'status', hidden: true });
  private data: StepGridData | undefined;
  private geometry = { x: 0, y: 0, cellWidth: 1, rowHeight: 1, blockHeight: 1 };
  private cell: Cell | null = null;

  constructor(private readonly announce: (text: string) => void) {
    this.frame.append(this.canvas, this.cursor, this.tooltip);
    this.caption.append(this.legend.element);
    this.element.append(this.caption, this.frame);
    this.canvas.addEventListener('pointermove', (e) => this.pointAt(this.cellAt(e.offsetX, e.offsetY)));
    this.canvas.addEventListener('pointerleave', () => this.pointAt(null));
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  render(data: StepGridData, width: number, theme: Theme, scale: ScaleMode): void {
    this.data = data;
    const rows = data.layers.length * data.heads.length, cols = data.keys.length;
    const top = Math.min(120, labelWidthFor(data.keys, 6.5));
    const cellWidth = Math.max(3, Math.min(28, (width - LABEL_WIDTH) / Math.max(1, cols)));
    const rowHeight = data.heads.length > 1 ? 10 : 16;
    const blockHeight = data.heads.length * rowHeight + LAYER_GAP;
    this.geometry = { x: LABEL_WIDTH, y: top, cellWidth, rowHeight, blockHeight };
    const canvasWidth = LABEL_WIDTH + cols * cellWidth, canvasHeight = top + data.layers.length * blockHeight;
    const g = fitCanvas(this.canvas, canvasWidth, canvasHeight);
    g.fillStyle = cssRgb(theme.background);
    g.fillRect(0, 0, canvasWidth, canvasHeight);
    const heat = heatPixels({
      data: data.values, rows, cols, maxPixels: Math.max(rows, cols), scale, ramp: theme.ramp, background: theme.background,
    });
    const bitmap = h('canvas', { width: heat.width, height: heat.height });
    bitmap.getContext('2d')!.putImageData(new ImageData(heat.pixels, heat.width, heat.height), 0, 0);
    g.imageSmoothingEnabled = false;
    g.font = `${FONT_SIZE}px ${theme.monoFont}`;
    g.textBaseline = 'middle';
    data.layers.forEach((layer, block) => {
      const y = top + block * blockHeight;
      g.drawImage(bitmap, 0, block * data.heads.length, cols, data.heads.length, LABEL_WIDTH, y, cols * cellWidth, data.heads.length * rowHeight);
      g.fillStyle = cssRgb(theme.foreground);
      g.textAlign = 'left';
      g.fillText(`layer ${layer}`, 0, y + (data.heads.length * rowHeight) / 2);
      data.heads.forEach((head, row) => {
        // A head's color beside its row, as the toolbar's swatches.
        g.fillStyle = cssRgb(head === null ? theme.heat : headColor(head));
        g.fillRect(LABEL_WIDTH - 6, y + row * rowHeight + 1, 4, rowHeight - 2);
      });
    });
    const labelStep = Math.max(1, Math.ceil((FONT_SIZE + 2) / cellWidth));
    g.fillStyle = cssRgb(theme.foreground);
    for (let c = 0; c < cols; c += labelStep) {
      g.save();
      g.translate(LABEL_WIDTH + (c + 0.5) * cellWidth, top - 4);
      g.rotate(-Math.PI / 2);
      g.font = `${c === data.queryKey ? 'bold ' : ''}${FONT_SIZE}px ${theme.monoFont}`;
      g.fillText(data.keys[c].length > 16 ? `${data.keys[c].slice(0, 15)}…` : data.keys[c], 0, 0);
      g.restore();
    }
    this.legend.sync({
      ramp: theme.ramp, ticks: scaleTicks(heat.max, scale, heat.floor),
      caption: `${data.title}: ${data.layers.length} ${data.layers.length === 1 ? 'layer' : 'layers'} × ${data.headLabel}, ${cols} keys · ${scale} scale`,
    });
    this.canvas.setAttribute('aria-label', `${data.title} of this step in every layer, ${data.headLabel}, over ${cols} keys. Arrow keys move between cells.`);
    this.cell = null;
    this.showCell();
  }

  private cellAt(x: number, y: number): Cell | null {
    const data = this.data, g = this.geometry;
    if (!data) return null;
    const key = Math.floor((x - g.x) / g.cellWidth), block = Math.floor((y - g.y) / g.blockHeight);
    const head = Math.floor((y - g.y - block * g.blockHeight) / g.rowHeight);
    const inside = key >= 0 && key < data.keys.length && block >= 0 && block < data.layers.length && head >= 0 && head < data.heads.length;
    return inside ? { layer: block, head, key } : null;
  }

  private describe(cell: Cell): string {
    const data = this.data!;
    const head = data.heads[cell.head];
    const weight = data.values[(cell.layer * data.heads.length + cell.head) * data.keys.length + cell.key];
    return `layer ${data.layers[cell.layer]} · ${head === null ? data.headLabel : `head ${head}`} → “${data.keys[cell.key]}” (${cell.key}): ${formatWeight(weight)}`;
  }

  private pointAt(cell: Cell | null): void {
    this.cell = cell;
    this.showCell();
  }

  private showCell(): void {
    const cell = this.cell, g = this.geometry;
    this.cursor.hidden = this.tooltip.hidden = !cell;
    if (!cell) return;
    const x = g.x + cell.key * g.cellWidth, y = g.y + cell.layer * g.blockHeight + cell.head * g.rowHeight;
    Object.assign(this.cursor.style, { left: `${x - 1}px`, top: `${y - 1}px`, width: `${g.cellWidth}px`, height: `${g.rowHeight}px` });
    this.tooltip.textContent = this.describe(cell);
    this.tooltip.style.left = `${Math.max(0, Math.min(this.canvas.clientWidth - 240, x + g.cellWidth + 8))}px`;
    this.tooltip.style.top = `${y + g.rowHeight + 6}px`;
  }

  private onKey(event: KeyboardEvent): void {
    const data = this.data;
    if (!data) return;
    const rows = data.layers.length * data.heads.length;
    const at = this.cell ? this.cell.layer * data.heads.length + this.cell.head : 0;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const [dr, dc] = this.cell ? moves[event.key] : [0, 0];
    const row = Math.max(0, Math.min(rows - 1, at + dr));
    const key = Math.max(0, Math.min(data.keys.length - 1, (this.cell?.key ?? data.keys.length - 1) + dc));
    this.pointAt({ layer: Math.floor(row / data.heads.length), head: row % data.heads.length, key });
    this.announce(this.describe(this.cell!));
  }
}
