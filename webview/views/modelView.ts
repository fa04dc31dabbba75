/**
 * The model view: a layers × heads grid of small heatmaps of one stack, filled in as layers stream in.
 * Clicking a thumbnail opens that layer and head in the matrix view. Compared with a baseline, each
 * thumbnail shows its head's change on its own diverging scale.
 */
import { changeTicks, cssRgb, headColor, logFloor, scaleTicks } from '../../src/view-model/colors';
import { diffPixels, heatPixels } from '../../src/view-model/heatmap';
import { gridLayout } from '../../src/view-model/layout';
import type { Selection } from '../../src/view-model/selection';
import { maskTest } from '../../src/view-model/viewData';
import type { Thumbnails } from '../dataClient';
import { h } from '../dom';
import { Legend } from '../legend';
import { showEmpty, type View, type ViewContext } from './view';

export class ModelView implements View {
  readonly element = h('section', { class: 'view model-view' });
  /** Thumbnails already drawn, by what they show; a streamed layer only draws its own row. */
  private readonly thumbs = new Map<string, HTMLCanvasElement>();
  private thumbsTheme: ViewContext['theme'] | undefined;
  private readonly legend = new Legend();
  private ctx: ViewContext | undefined;

  constructor() {
    this.element.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>('.mv-thumb');
      if (!button || !this.ctx) return;
      const layer = Number(button.dataset.layer), head = Number(button.dataset.head);
      this.ctx.update((s) => ({ ...s, view: 'matrix', layer, head, layerReduction: 'single', headMode: 'each', activeHeads: s.activeHeads.map((on, i) => on || i === head) }));
    });
  }

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const started = ctx.run.started;
    const s = ctx.selection;
    if (!started || (ctx.run.failure && !ctx.run.layersReceived)) {
      showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
      return;
    }
    const numHeads = started.model.numHeads;
    const layerCount = Math.max(started.model.numLayers, ctx.run.layerCount(s.stack));
    const { thumb, gap } = gridLayout(numHeads, this.element.clientWidth - 48);
    const grid = h('div', { class: 'mv-grid', role: 'grid', 'aria-label': `${s.stack} attention: ${layerCount} layers by ${numHeads} heads. Each button opens that head in the matrix view.` });
    grid.style.gridTemplateColumns = `auto repeat(${numHeads}, ${thumb}px)`;
    grid.style.gap = `${gap}px`;
    // Heads sharing a key/value head (GQA) are labelled as a group above their columns.
    const numKvHeads = started.model.numKvHeads, perKv = numKvHeads > 0 && numKvHeads < numHeads && numHeads % numKvHeads === 0 ? numHeads / numKvHeads : 1;
    if (perKv > 1) {
      const groups = h('div', { class: 'mv-row', role: 'row' }, h('span', { role: 'columnheader' }, ''));
      for (let kv = 0; kv < numKvHeads; kv++) {
        const label = h('span', { class: 'mv-kv', role: 'columnheader', 'data-kv': kv, title: `Heads ${kv * perKv}–${(kv + 1) * perKv - 1} share key/value head ${kv}` }, `kv head ${kv}`);
        label.style.gridColumn = `span ${perKv}`;
        groups.append(label);
      }
      grid.append(groups);
    }
    const header = h('div', { class: 'mv-row', role: 'row' }, h('span', { role: 'columnheader' }, ''));
    for (let head = 0; head < numHeads; head++) {
      const label = h('span', { class: 'mv-head', role: 'columnheader' }, `head ${head}`);
      label.style.borderBottomColor = cssRgb(headColor(head));
      header.append(label);
    }
    grid.append(header);
    const dpr = window.devicePixelRatio || 1;
    for (let layer = 0; layer < layerCount; layer++) {
      const row = h('div', { class: 'mv-row', role: 'row' }, h('span', { class: 'mv-layer', role: 'rowheader' }, `layer ${layer}`));
      const data = ctx.data.thumbnails(ctx.run, s, layer);
      for (let head = 0; head < numHeads; head++) {
        const current = s.layerReduction === 'single' && s.layer === layer && s.head === head;
        const button = h('button', { class: `mv-thumb${current ? ' current' : ''}`, role: 'gridcell', 'data-layer': layer, 'data-head': head, 'aria-label': `Layer ${layer}, head ${head}${data ? '' : ' (not computed yet)'}`, disabled: !data });
        button.style.width = button.style.height = `${thumb}px`;
        if (data) button.append(this.thumbnail(ctx, s, data, layer, head, Math.round(thumb * dpr), thumb));
        row.append(button);
      }
      grid.append(row);
    }
    this.syncLegend(ctx, s, started.source.tokens.length);
    this.element.replaceChildren(this.legend.element, grid);
  }

  /** Each thumbnail runs from 0 to its own largest weight (or change): the legend says so. */
  private syncLegend(ctx: ViewContext, s: Selection, keys: number): void {
    const top = { at: 1, label: ctx.comparison ? '+its largest' : 'its largest' };
    const ticks = ctx.comparison
      ? [{ ...changeTicks(1)[0], label: '−its largest' }, changeTicks(1)[1], top]
      : [s.scale === 'log' ? scaleTicks(1, 'log', logFloor(keys))[0] : { at: 0, label: '0' }, top];
    this.legend.sync({
      ramp: ctx.comparison ? ctx.theme.diverging : ctx.theme.ramp, ticks,
      caption: `${s.stack} · every layer and head · ${ctx.comparison ? 'change since the baseline' : `${s.scale} scale`}, each thumbnail on its own scale`,
      note: ctx.run.layer(s.stack, 0)?.causal ? 'blank: masked (causal)' : undefined,
    });
  }

  renderFocus(): void {
    // Thumbnails show whole matrices: a focused token changes nothing here.
  }

  private thumbnail(ctx: ViewContext, s: Selection, data: Thumbnails, layer: number, head: number, pixels: number, size: number): HTMLCanvasElement {
    if (this.thumbsTheme !== ctx.theme || this.thumbs.size > 1024) {
      this.thumbs.clear();
      this.thumbsTheme = ctx.theme;
    }
    const key = `${ctx.run.revision}|${ctx.comparison}|${s.stack}|${layer}|${head}|${s.scale}|${s.hideSpecial}|${s.mergeWords}|${pixels}`;
    let canvas = this.thumbs.get(key);
    if (!canvas) {
      const m = data.matrices;
      const cells = m.rows * m.cols;
      const causal = ctx.run.layer(s.stack, layer)?.causal ?? false;
      const masked = maskTest({ causal, queryLast: data.queryLast, keyFirst: data.keyFirst });
      const common = { rows: m.rows, cols: m.cols, maxPixels: pixels, background: ctx.theme.background, masked };
      const diff = ctx.comparison ? data.diff : undefined;
      const heat = diff
        ? diffPixels({ ...common, mask: ctx.theme.mask, data: diff.delta.data.subarray(head * cells, (head + 1) * cells), maxAbs: diff.headMaxAbs[head] ?? 0, ramp: ctx.theme.diverging })
        : heatPixels({ ...common, data: m.data.subarray(head * cells, (head + 1) * cells), scale: s.scale, ramp: ctx.theme.ramp });
      canvas = h('canvas', { width: heat.width, height: heat.height, 'aria-hidden': 'true' });
      canvas.getContext('2d')!.putImageData(new ImageData(heat.pixels, heat.width, heat.height), 0, 0);
      this.thumbs.set(key, canvas);
    }
    canvas.style.width = canvas.style.height = `${size - 4}px`;
    return canvas;
  }
}
