/**
 * The matrix view: one head's (or the heads' mean/max) attention as a canvas heatmap, queries down,
 * keys across, the causal mask blank, a color legend above. Hovering (or arrow keys) shows query, key and weight; the
 * hovered query row is the shared focus, a click locks it. Linear or log scale from the toolbar.
 * Compared with a baseline: current − baseline on a diverging scale, gray where a token is new.
 */
import { changeTicks, cssRgb, mix, scaleTicks } from '../../src/view-model/colors';
import { maxAbsOf, type DiffData } from '../../src/view-model/diff';
import { diffPixels, heatPixels } from '../../src/view-model/heatmap';
import { cellAt, labelWidthFor, matrixLayout, type MatrixLayout } from '../../src/view-model/layout';
import type { HeadMatrices } from '../../src/view-model/matrices';
import { matrixScene, type Scene } from '../../src/view-model/scene';
import { hover, toggleLock } from '../../src/view-model/selection';
import { uprightLabel } from '../../src/view-model/tokens';
import { isMasked, isOutsideWindow, maskTest, windowTest, type ViewData } from '../../src/view-model/viewData';
import { fitCanvas, formatWeight, h, observeSize, shownWeight } from '../dom';
import { Legend } from '../legend';
import { placeholder, showEmpty, type View, type ViewContext } from './view';

const FONT_SIZE = 11;

/** What a matrix view draws: one attention head (or the heads' mean/max) by default; the rollout view gives its own. */
export interface MatrixSource {
  /** The matrix, why there is none, or undefined while it is on its way. */
  data(ctx: ViewContext): ViewData | string | undefined;
  /** What the caption calls it ("head 3", "rollout"). */
  title(ctx: ViewContext, data: ViewData): string;
}

interface Cell {
  readonly row: number;
  readonly col: number;
}

export class MatrixView implements View {
  readonly element = h('section', { class: 'view matrix-view' });
  private readonly frame = h('div', { class: 'mv-frame' });
  private readonly base = h('canvas', { class: 'mv-base', 'aria-hidden': 'true' });
  private readonly overlay = h('canvas', { class: 'mv-overlay', tabindex: 0, role: 'img' });
  private readonly tooltip = h('div', { class: 'mv-tooltip', role: 'status' });
  private readonly legend = new Legend();
  private ctx: ViewContext | undefined;
  private data: ViewData | undefined;
  private layout: MatrixLayout | undefined;
  private cell: Cell | null = null;
  /** The heatmap bitmap and what it was made from, so a hover never rebuilds it. */
  private heat: { source: HeadMatrices; head: number; scale: string; ramp: Uint8ClampedArray; pixels: number; bitmap: HTMLCanvasElement; max: number; floor: number } | undefined;
  /** The differences shown, when comparing with a baseline. */
  private diff: DiffData | undefined;

  private readonly source: MatrixSource;

  constructor(source?: MatrixSource) {
    this.source = source ?? { data: (ctx) => this.attention(ctx), title: (ctx, data) => (ctx.selection.headMode === 'each' ? `head ${this.head(ctx)}` : data.headLabel) };
    this.frame.append(this.base, this.overlay, this.tooltip);
    this.overlay.addEventListener('pointermove', (e) => this.pointAt(this.layout && cellAt(this.layout, e.offsetX, e.offsetY)));
    this.overlay.addEventListener('pointerleave', () => {
      this.pointAt(null);
      this.ctx?.update((s) => hover(s, null));
    });
    this.overlay.addEventListener('click', () => this.cell && this.ctx?.update((s) => toggleLock(s, { side: 'query', index: this.cell!.row })));
    this.overlay.addEventListener('keydown', (e) => this.onKey(e));
    observeSize(this.element, () => this.ctx && this.render(this.ctx));
  }

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const found = this.source.data(ctx);
    const data = typeof found === 'string' ? undefined : found;
    this.data = data;
    this.diff = data && ctx.diff(data);
    if (!data) {
      this.layout = undefined;
      if (typeof found === 'string') placeholder(this.element, found);
      else showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
      return;
    }
    if (this.frame.parentElement !== this.element) this.element.replaceChildren(this.legend.element, this.frame);
    const { rows, cols } = data.matrices;
    const labelSpace = Math.min(140, labelWidthFor([...data.queries.labels, ...data.keys.labels], 6.5));
    const width = Math.max(200, this.element.clientWidth - 16);
    const height = Math.max(200, Math.min(width, window.innerHeight - 140));
    this.layout = matrixLayout(rows, cols, width, height, labelSpace, FONT_SIZE);
    const g = fitCanvas(this.base, this.layout.width, this.layout.height);
    fitCanvas(this.overlay, this.layout.width, this.layout.height);
    const heat = this.heatmap(ctx, data);
    g.fillStyle = cssRgb(ctx.theme.background);
    g.fillRect(0, 0, this.layout.width, this.layout.height);
    g.imageSmoothingEnabled = false;
    g.drawImage(heat.bitmap, this.layout.x, this.layout.y, cols * this.layout.cell, rows * this.layout.cell);
    this.drawLabels(g, ctx, data, this.layout);
    const head = this.source.title(ctx, data);
    this.overlay.setAttribute('aria-label', `Attention matrix, ${data.layerLabel}, ${head}: ${rows} queries by ${cols} keys. Arrow keys move between cells, Enter locks the row.`);
    const caption = `${data.stack} · ${data.layerLabel} · ${head} · ${this.diff ? 'change since the baseline' : `${ctx.selection.scale} scale`}`;
    const notes = [
      this.diff ? 'orange: more, blue: less, gray: token new since the baseline' : '', data.causal ? 'blank: masked (causal)' : '',
      data.window !== undefined ? `flat gray: outside the sliding window of ${data.window} keys` : '',
    ].filter(Boolean);
    if (data.window !== undefined) this.element.dataset.window = String(data.window);
    else delete this.element.dataset.window;
    this.legend.sync({
      ramp: heat.ramp, caption, note: notes.join(' · ') || undefined,
      ticks: this.diff ? changeTicks(heat.max) : scaleTicks(heat.max, ctx.selection.scale, heat.floor),
    });
    this.renderFocus(ctx);
  }

  renderFocus(ctx: ViewContext): void {
    this.ctx = ctx;
    const data = this.data, layout = this.layout;
    if (!data || !layout) return;
    const g = fitCanvas(this.overlay, layout.width, layout.height);
    g.clearRect(0, 0, layout.width, layout.height);
    const focus = ctx.selection.focus;
    const row = focus?.side === 'query' ? focus.index : -1;
    g.strokeStyle = cssRgb(ctx.theme.accent);
    g.lineWidth = ctx.selection.locked ? 2 : 1;
    if (row >= 0 && row < layout.rows) g.strokeRect(layout.x - 0.5, layout.y + row * layout.cell - 0.5, layout.cols * layout.cell + 1, layout.cell + 1);
    if (focus?.side === 'key' && focus.index < layout.cols) g.strokeRect(layout.x + focus.index * layout.cell - 0.5, layout.y - 0.5, layout.cell + 1, layout.rows * layout.cell + 1);
    const cell = this.cell;
    if (!cell) {
      this.tooltip.hidden = true;
      return;
    }
    g.lineWidth = 1;
    g.strokeStyle = cssRgb(ctx.theme.foreground);
    g.strokeRect(layout.x + cell.col * layout.cell - 0.5, layout.y + cell.row * layout.cell - 0.5, Math.max(2, layout.cell) + 1, Math.max(2, layout.cell) + 1);
    this.tooltip.hidden = false;
    this.tooltip.textContent = this.describe(ctx, data, cell);
    this.tooltip.style.left = `${Math.min(layout.width - 220, layout.x + (cell.col + 1) * layout.cell + 8)}px`;
    this.tooltip.style.top = `${layout.y + (cell.row + 1) * layout.cell + 8}px`;
  }

  scene(ctx: ViewContext): Scene | undefined {
    const data = this.data, layout = this.layout;
    if (!data || !layout) return undefined;
    const heat = this.heatmap(ctx, data);
    return matrixScene({
      title: `${ctx.run.started?.model.name ?? ''} · ${data.stack} · ${data.layerLabel} · ${this.source.title(ctx, data)}${this.diff ? ' · change since the baseline' : ''}`,
      layout, queryLabels: data.queries.labels, keyLabels: data.keys.labels, heatmap: heat.bitmap.toDataURL('image/png'),
      background: ctx.theme.background, foreground: ctx.theme.foreground, fontSize: FONT_SIZE,
    });
  }

  /** One head is drawn (or the heads' mean/max): only that one is asked for. */
  private attention(ctx: ViewContext): ViewData | undefined {
    return ctx.data.windowed(ctx.run, ctx.selection, ctx.selection.stack, (rows) => ({ start: 0, end: rows }), this.head(ctx));
  }

  private head(ctx: ViewContext): number {
    return ctx.selection.headMode === 'each' ? ctx.selection.head : 0;
  }

  /** Where the shown head is in the matrices: they hold every head, or (a long run) that one alone. */
  private headIndex(ctx: ViewContext, data: ViewData): number {
    return data.matrices.heads === 1 ? 0 : this.head(ctx);
  }

  private heatmap(ctx: ViewContext, data: ViewData) {
    const head = this.headIndex(ctx, data);
    const m = data.matrices;
    // One pixel per device pixel drawn: pooling here keeps peaks that canvas downscaling would drop.
    const size = Math.ceil(Math.max(m.rows, m.cols) * (this.layout?.cell ?? 1) * (window.devicePixelRatio || 1));
    const diff = this.diff;
    const source = diff?.delta ?? m, ramp = diff ? ctx.theme.diverging : ctx.theme.ramp;
    const cached = this.heat;
    if (cached && cached.source === source && cached.head === head && cached.scale === ctx.selection.scale && cached.ramp === ramp && cached.pixels === size) return cached;
    const cells = m.rows * m.cols;
    const common = {
      rows: m.rows, cols: m.cols, maxPixels: size, background: ctx.theme.background, masked: maskTest(data),
      outsideWindow: windowTest(data), band: mix(ctx.theme.background, ctx.theme.mask, 0.3),
    };
    const { width, height, pixels, max, floor } = diff
      ? diffPixels({ ...common, mask: ctx.theme.mask, data: diff.delta.data.subarray(head * cells, (head + 1) * cells), maxAbs: maxAbsOf(diff, [head]), ramp })
      : heatPixels({ ...common, data: m.data.subarray(head * cells, (head + 1) * cells), scale: ctx.selection.scale, ramp });
    const bitmap = h('canvas', { width, height });
    bitmap.getContext('2d')!.putImageData(new ImageData(pixels, width, height), 0, 0);
    this.heat = { source, head, scale: ctx.selection.scale, ramp, pixels: size, bitmap, max, floor };
    return this.heat;
  }

  private drawLabels(g: CanvasRenderingContext2D, ctx: ViewContext, data: ViewData, layout: MatrixLayout): void {
    g.fillStyle = cssRgb(ctx.theme.foreground);
    g.font = `${FONT_SIZE}px ${ctx.theme.monoFont}`;
    g.textBaseline = 'middle';
    const room = layout.x - 6;
    g.textAlign = 'right';
    for (let r = 0; r < layout.rows; r += layout.labelStep) {
      g.fillText(clip(g, data.queries.labels[r], room), layout.x - 4, layout.y + (r + 0.5) * layout.cell);
    }
    for (let c = 0; c < layout.cols; c += layout.labelStep) {
      const x = layout.x + (c + 0.5) * layout.cell, label = data.keys.labels[c];
      if (uprightLabel(label)) {
        // Chinese, Japanese and Korean read upright, top to bottom, as in vertical writing.
        g.textAlign = 'center';
        const chars = [...label];
        chars.forEach((ch, i) => g.fillText(ch, x, layout.y - 4 - (chars.length - i - 0.5) * (FONT_SIZE + 1)));
        continue;
      }
      g.save();
      g.textAlign = 'left';
      g.translate(x, layout.y - 4);
      g.rotate(-Math.PI / 2);
      g.fillText(clip(g, label, room), 0, 0);
      g.restore();
    }
  }

  private describe(ctx: ViewContext, data: ViewData, cell: Cell): string {
    const m = data.matrices;
    const at = (this.headIndex(ctx, data) * m.rows + cell.row) * m.cols + cell.col;
    const weight = m.data[at];
    const windowed = isOutsideWindow(data, cell.row, cell.col);
    const masked = isMasked(data, cell.row, cell.col) || windowed;
    const why = windowed ? `outside the sliding window of ${data.window} (−∞ before the softmax)` : 'masked';
    const cellText = `query “${data.queries.labels[cell.row]}” (${cell.row}) → key “${data.keys.labels[cell.col]}” (${cell.col}): ${masked ? why : shownWeight(weight, data.approximate)}`;
    const delta = this.diff?.delta.data[at];
    if (delta === undefined || masked) return cellText;
    if (Number.isNaN(delta)) return `${cellText} (new since the baseline: nothing to compare)`;
    return `${cellText} (baseline ${formatWeight(weight - delta)}, change ${delta >= 0 ? '+' : '−'}${formatWeight(Math.abs(delta))})`;
  }

  private pointAt(cell: Cell | null | undefined): void {
    const next = cell ?? null;
    if (next?.row === this.cell?.row && next?.col === this.cell?.col) return;
    this.cell = next;
    const ctx = this.ctx;
    if (!ctx) return;
    if (next) ctx.update((s) => hover(s, { side: 'query', index: next.row }));
    this.renderFocus(this.ctx!);
  }

  private onKey(event: KeyboardEvent): void {
    const layout = this.layout, ctx = this.ctx, data = this.data;
    if (!layout || !ctx || !data) return;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const current = this.cell ?? { row: 0, col: 0 };
    if (event.key in moves) {
      const [dr, dc] = this.cell ? moves[event.key] : [0, 0];
      this.pointAt({ row: clamp(current.row + dr, layout.rows), col: clamp(current.col + dc, layout.cols) });
      ctx.announce(this.describe(ctx, data, this.cell!));
    } else if (event.key === 'Enter' || event.key === ' ') {
      ctx.update((s) => toggleLock(s, { side: 'query', index: current.row }));
    } else {
      return;
    }
    event.preventDefault();
  }
}

function clamp(value: number, count: number): number {
  return Math.max(0, Math.min(count - 1, value));
}

function clip(g: CanvasRenderingContext2D, text: string, room: number): string {
  if (g.measureText(text).width <= room) return text;
  let end = text.length;
  while (end > 1 && g.measureText(text.slice(0, end) + '…').width > room) end--;
  return text.slice(0, end) + '…';
}
