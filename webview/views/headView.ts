/**
 * The head view (as in BertViz): queries on the left, keys on the right, one line per (head, query, key)
 * with opacity = weight ÷ active heads, one color per head. Hover a token to focus it, click to lock,
 * Escape to unlock. Token lists are virtualized beyond VIRTUALIZE_ABOVE rows and lines are drawn on one
 * viewport-sized canvas, so 2,048 tokens stay interactive. Also the cross-attention view (fixed stack).
 * Compared with a baseline, lines show changes instead: opacity = |change| ÷ the largest change, colored
 * by increase or decrease, and tokens new since the baseline are marked.
 */
import type { AttentionStack } from '../../src/protocol/messages';
import { cssRgb, headColor, type Rgb } from '../../src/view-model/colors';
import { headLayout, labelWidthFor, renderedRows, rowY, visibleRows, type HeadLayout, type RowRange } from '../../src/view-model/layout';
import { focusWeights, selectLinks, type Focus, type Link, type Side } from '../../src/view-model/links';
import { maxAbsOf, type DiffData } from '../../src/view-model/diff';
import { topIndices } from '../../src/view-model/matrices';
import { headScene, type Scene } from '../../src/view-model/scene';
import { hover, moveFocus, toggleLock } from '../../src/view-model/selection';
import { focusIn, type ViewData } from '../../src/view-model/viewData';
import { fitCanvas, formatWeight, h, observeSize, shownWeight } from '../dom';
import { showEmpty, type View, type ViewContext } from './view';

const ROW_HEIGHT = 20;
const TOP = 26;
const CHAR_WIDTH = 7.4;
/** Wider spans make lines nearly horizontal and hard to follow. */
const MAX_LINK_SPAN = 420;
/** Opacity steps: lines are batched into one path per (head, step). */
const OPACITY_STEPS = 48;

export class HeadView implements View {
  readonly element = h('section', { class: 'view head-view' });
  /** The focused token's strongest partners, as buttons that scroll to them (long inputs put them off-screen). */
  private readonly summary = h('div', { class: 'hv-summary' });
  private readonly scroll = h('div', { class: 'hv-scroll', tabindex: 0, role: 'group' });
  private readonly sizer = h('div', { class: 'hv-sizer' });
  private readonly canvas = h('canvas', { class: 'hv-links', 'aria-hidden': 'true' });
  private readonly columns: Record<Side, HTMLElement> = {
    query: h('div', { class: 'hv-column', role: 'listbox' }),
    key: h('div', { class: 'hv-column', role: 'listbox' }),
  };
  private readonly tokens: Record<Side, Map<number, HTMLElement>> = { query: new Map(), key: new Map() };
  private readonly titles = { query: h('div', { class: 'hv-title' }), key: h('div', { class: 'hv-title' }) };
  private ctx: ViewContext | undefined;
  private data: ViewData | undefined;
  private layout: HeadLayout | undefined;
  private labelsKey = '';

  constructor(private readonly stack?: AttentionStack) {
    this.sizer.append(this.canvas, this.titles.query, this.titles.key, this.columns.query, this.columns.key);
    this.scroll.append(this.sizer);
    this.scroll.setAttribute('aria-label', 'Token links. Arrow keys move the focus, Left and Right switch between queries and keys, Enter locks, Escape unlocks.');
    this.scroll.addEventListener('scroll', () => this.onScroll());
    this.scroll.addEventListener('keydown', (e) => this.onKey(e));
    for (const side of ['query', 'key'] as const) {
      const column = this.columns[side];
      column.setAttribute('aria-label', side === 'query' ? 'Queries' : 'Keys');
      column.addEventListener('pointerover', (e) => {
        const focus = tokenFocus(e.target);
        if (focus) this.ctx?.update((s) => hover(s, focus));
      });
      column.addEventListener('pointerleave', () => this.ctx?.update((s) => hover(s, null)));
      column.addEventListener('click', (e) => {
        const focus = tokenFocus(e.target);
        if (focus) this.lock(focus);
      });
    }
    this.summary.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.hv-jump')?.dataset.row;
      if (row !== undefined && this.layout) this.scrollToRow(Number(row), this.layout);
    });
    observeSize(this.element, () => this.ctx && this.render(this.ctx));
  }

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const data = this.fetch(ctx);
    this.data = data;
    if (!data) {
      this.layout = undefined;
      this.labelsKey = '';
      showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
      return;
    }
    if (this.scroll.parentElement !== this.element) this.element.replaceChildren(this.summary, this.scroll);
    const labelsKey = `${data.queries.labels.join('\u0000')}\u0001${data.keys.labels.join('\u0000')}`;
    if (labelsKey !== this.labelsKey) {
      this.labelsKey = labelsKey;
      for (const side of ['query', 'key'] as const) {
        this.tokens[side].clear();
        this.columns[side].replaceChildren();
      }
    }
    const labelWidth = labelWidthFor([...data.queries.labels, ...data.keys.labels], CHAR_WIDTH);
    this.layout = headLayout({
      queryCount: data.queries.labels.length, keyCount: data.keys.labels.length,
      width: Math.max(240, Math.min(this.scroll.clientWidth, 2 * labelWidth + MAX_LINK_SPAN)), rowHeight: ROW_HEIGHT, labelWidth, top: TOP,
    });
    this.sizer.style.height = `${this.layout.height}px`;
    const cross = data.stack === 'cross';
    this.titles.query.textContent = cross ? 'Decoder (queries)' : 'Queries';
    this.titles.key.textContent = cross ? 'Encoder (keys)' : 'Keys';
    this.place(this.titles.query, this.layout.queryX, 4, 'start');
    // In a narrow panel the keys' heading ends at the panel's edge instead of running past it.
    const keyTitleWidth = this.titles.key.offsetWidth;
    this.place(this.titles.key, Math.max(0, Math.min(this.layout.keyX, this.scroll.clientWidth - keyTitleWidth - 4)), 4, 'start');
    this.renderRows();
    this.renderFocus(ctx);
  }

  renderFocus(ctx: ViewContext): void {
    this.ctx = ctx;
    const data = this.data, layout = this.layout;
    if (!data || !layout) return;
    const focus = focusIn(data, ctx.selection.focus);
    const locked = ctx.selection.locked;
    const diff = ctx.diff(data);
    const maxAbs = diff ? maxAbsOf(diff, data.heads) : 0;
    const links = this.links(data, focus, layout, diff && { diff, maxAbs });
    this.draw(ctx, layout, links, diff);
    const count = focus ? (focus.side === 'query' ? data.keys : data.queries).labels.length : 0;
    const weights = focus ? (diff ? signedFocusWeights(links, diff, focus, count, data.activeCount) : focusWeights(links, focus, count, data.activeCount)) : undefined;
    const other: Side = focus?.side === 'query' ? 'key' : 'query';
    for (const side of ['query', 'key'] as const) {
      const added = diff && (side === 'query' ? diff.queryAdded : diff.keyAdded);
      for (const [index, element] of this.tokens[side]) {
        const focused = focus?.side === side && focus.index === index;
        element.classList.toggle('focused', focused);
        element.classList.toggle('locked', focused && locked);
        element.classList.toggle('added', !!added?.[index]);
        element.setAttribute('aria-selected', String(focused));
        const weight = weights && side === other ? weights[index] : 0;
        const strength = Math.min(1, diff ? Math.abs(weight) / (maxAbs || 1) : weight);
        const color = diff ? (weight > 0 ? ctx.theme.increase : ctx.theme.decrease) : ctx.theme.heat;
        element.style.backgroundColor = strength > 0.01 ? cssRgb(color, 0.15 + 0.6 * strength) : '';
      }
    }
    const active = focus && this.tokens[focus.side].get(focus.index);
    if (active) this.scroll.setAttribute('aria-activedescendant', active.id);
    else this.scroll.removeAttribute('aria-activedescendant');
    this.renderSummary(data, focus, weights, !!diff);
  }

  private renderSummary(data: ViewData, focus: Focus | null, weights: Float32Array | undefined, changes: boolean): void {
    if (!focus || !weights) {
      this.summary.textContent = changes
        ? 'Lines show changes since the baseline. Hover a token to see its largest changes; click to lock it, Escape to unlock.'
        : 'Hover a token to see its links; click to lock it, Escape to unlock.';
      return;
    }
    const [labels, others] = focus.side === 'query' ? [data.queries.labels, data.keys.labels] : [data.keys.labels, data.queries.labels];
    const verb = changes ? 'changed most toward' : focus.side === 'query' ? 'attends to' : 'is attended by';
    const shown = (j: number) => (changes ? `${weights[j] > 0 ? '+' : '−'}${formatWeight(Math.abs(weights[j]))}` : shownWeight(weights[j], data.approximate));
    this.summary.replaceChildren(
      `${focus.side} “${labels[focus.index]}” (${focus.index}) ${verb} `,
      ...strongestPartners(changes ? weights.map(Math.abs) : weights, 5).map((j) => h('button', { class: 'hv-jump', 'data-row': j, title: 'Scroll to it' }, `“${others[j]}” (${j}) ${shown(j)}`)),
    );
  }

  async scene(ctx: ViewContext): Promise<Scene | undefined> {
    const data = await ctx.data.whole(ctx.run, ctx.selection, this.stack);
    if (!data) return undefined;
    const focus = focusIn(data, ctx.selection.focus);
    const diff = ctx.diff(data);
    const links = selectLinks({
      ...linkSource(data, diff && { diff, maxAbs: maxAbsOf(diff, data.heads) }), heads: data.heads, activeCount: data.activeCount, focus,
      rows: { start: 0, end: data.queries.labels.length },
    });
    return headScene({
      title: `${ctx.run.started?.model.name ?? ''} · ${data.stack} · ${data.layerLabel} · ${data.headLabel}${diff ? ' · change since the baseline' : ''}`,
      queryLabels: data.queries.labels, keyLabels: data.keys.labels, links, focus,
      aggregate: ctx.selection.headMode !== 'each', aggregateColor: ctx.theme.heat,
      colorOf: diff && ((l) => (signOf(diff, l) > 0 ? ctx.theme.increase : ctx.theme.decrease)),
      background: ctx.theme.background, foreground: ctx.theme.foreground,
    });
  }

  private links(data: ViewData, focus: Focus | null, layout: HeadLayout, changes?: Changes): Link[] {
    const rows = visibleRows(this.scroll.scrollTop, this.scroll.clientHeight, layout.top, layout.rowHeight, data.queries.labels.length, 2);
    return selectLinks({ ...linkSource(data, changes), heads: data.heads, activeCount: data.activeCount, focus, rows });
  }

  private draw(ctx: ViewContext, layout: HeadLayout, links: readonly Link[], diff: DiffData | undefined): void {
    const width = layout.width, height = Math.max(1, Math.min(this.scroll.clientHeight, layout.height));
    const g = fitCanvas(this.canvas, width, height);
    g.clearRect(0, 0, width, height);
    g.translate(0, -this.scroll.scrollTop);
    const paths = new Map<number, Path2D>();
    // Lines are batched by color (a head's, or a change's sign) and opacity step.
    const colorKey = (link: Link) => (diff ? +(signOf(diff, link) > 0) : link.head);
    for (const link of links) {
      const step = Math.min(OPACITY_STEPS, Math.ceil(link.opacity * OPACITY_STEPS));
      const key = colorKey(link) * (OPACITY_STEPS + 1) + step;
      let path = paths.get(key);
      if (!path) paths.set(key, (path = new Path2D()));
      path.moveTo(layout.linkStartX, rowY(layout, link.query));
      path.lineTo(layout.linkEndX, rowY(layout, link.key));
    }
    const aggregate = ctx.selection.headMode !== 'each';
    g.lineWidth = ctx.theme.highContrast ? 2.5 : 2;
    for (const [key, path] of paths) {
      const colorIndex = Math.floor(key / (OPACITY_STEPS + 1));
      const color: Rgb = diff ? (colorIndex ? ctx.theme.increase : ctx.theme.decrease) : aggregate ? ctx.theme.heat : headColor(colorIndex);
      g.strokeStyle = cssRgb(color);
      g.globalAlpha = (key % (OPACITY_STEPS + 1)) / OPACITY_STEPS;
      g.stroke(path);
    }
    g.globalAlpha = 1;
    // Lets tests see how many lines the canvas holds.
    this.canvas.dataset.linkCount = String(links.length);
  }

  /** Keeps the token elements of the rendered range in the DOM, and only those. */
  private renderRows(): void {
    const data = this.data, layout = this.layout;
    if (!data || !layout) return;
    for (const side of ['query', 'key'] as const) {
      const labels = side === 'query' ? data.queries.labels : data.keys.labels;
      const visible = visibleRows(this.scroll.scrollTop, this.scroll.clientHeight, layout.top, layout.rowHeight, labels.length);
      this.syncColumn(side, labels, renderedRows(labels.length, visible), layout);
    }
  }

  private syncColumn(side: Side, labels: readonly string[], range: RowRange, layout: HeadLayout): void {
    const rendered = this.tokens[side];
    for (const [index, element] of rendered) {
      if (index < range.start || index >= range.end) {
        element.remove();
        rendered.delete(index);
      }
    }
    const x = side === 'query' ? layout.queryX : layout.keyX;
    for (let index = range.start; index < range.end; index++) {
      let element = rendered.get(index);
      if (!element) {
        // `token` marks one element per token (the query column): the integration tests count them.
        element = h('div', { class: side === 'query' ? 'hv-token token' : 'hv-token key-token', role: 'option', id: `${this.stack ?? 'main'}-${side}-${index}`, 'data-side': side, 'data-index': index, title: `${side} ${index}` }, labels[index]);
        rendered.set(index, element);
        this.columns[side].append(element);
      }
      this.place(element, x, rowY(layout, index) - layout.rowHeight / 2, side === 'query' ? 'end' : 'start');
    }
  }

  private place(element: HTMLElement, x: number, y: number, align: 'start' | 'end'): void {
    element.style.left = `${x}px`;
    element.style.top = `${y}px`;
    element.style.textAlign = align === 'end' ? 'right' : 'left';
    // Titles may run past the label column; tokens are clipped to it (with an ellipsis).
    if (element.classList.contains('hv-token')) element.style.width = `${this.layout?.labelWidth ?? 0}px`;
  }

  /** This view's data: at long lengths only the rows in sight (and a chunk either side) are asked for. */
  private fetch(ctx: ViewContext): ViewData | undefined {
    const height = this.scroll.clientHeight || window.innerHeight;
    return ctx.data.windowed(ctx.run, ctx.selection, this.stack ?? ctx.selection.stack, (count) => visibleRows(this.scroll.scrollTop, height, TOP, ROW_HEIGHT, count, 2));
  }

  private onScroll(): void {
    if (!this.ctx) return;
    // Rows scrolled into sight may not have arrived: ask (their arrival draws the view again).
    this.data = this.fetch(this.ctx) ?? this.data;
    this.renderRows();
    this.renderFocus(this.ctx);
  }

  private lock(focus: Focus): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.update((s) => toggleLock(s, focus));
    const data = this.data;
    if (!data || !this.ctx?.selection.locked) return;
    const labels = focus.side === 'query' ? data.queries.labels : data.keys.labels;
    const others = focus.side === 'query' ? data.keys.labels : data.queries.labels;
    const weights = focusWeights(this.links(data, focus, this.layout!), focus, others.length, data.activeCount);
    const top = strongestPartners(weights, 3);
    ctx.announce(`Locked ${focus.side} “${labels[focus.index]}”. ${focus.side === 'query' ? 'Attends to' : 'Attended by'}: ${top.map((i) => `“${others[i]}” ${shownWeight(weights[i], data.approximate)}`).join(', ')}.`);
  }

  private onKey(event: KeyboardEvent): void {
    const ctx = this.ctx, data = this.data, layout = this.layout;
    if (!ctx || !data || !layout) return;
    const focus = focusIn(data, ctx.selection.focus);
    const side: Side = focus?.side ?? 'query';
    const count = (side === 'query' ? data.queries : data.keys).labels.length;
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -count, End: count };
    if (event.key in moves) {
      ctx.update((s) => moveFocus({ ...s, locked: false }, moves[event.key], count, side));
    } else if ((event.key === 'ArrowLeft' || event.key === 'ArrowRight') && focus) {
      const to: Side = event.key === 'ArrowLeft' ? 'query' : 'key';
      const toCount = (to === 'query' ? data.queries : data.keys).labels.length;
      ctx.update((s) => ({ ...s, locked: false, focus: { side: to, index: Math.min(focus.index, toCount - 1) } }));
    } else if ((event.key === 'Enter' || event.key === ' ') && focus) {
      this.lock(focus);
    } else {
      return;
    }
    event.preventDefault();
    const next = this.ctx?.selection.focus;
    if (next) this.scrollToRow(next.index, layout);
  }

  private scrollToRow(row: number, layout: HeadLayout): void {
    const y = rowY(layout, row);
    const { scrollTop, clientHeight } = this.scroll;
    if (y - layout.rowHeight < scrollTop + layout.top) this.scroll.scrollTop = y - layout.top - layout.rowHeight;
    else if (y + layout.rowHeight > scrollTop + clientHeight) this.scroll.scrollTop = y + layout.rowHeight - clientHeight;
  }
}

interface Changes {
  readonly diff: DiffData;
  readonly maxAbs: number;
}

/** Lines by weight, or (comparing) by |change| with the largest change opaque. */
function linkSource(data: ViewData, changes: Changes | undefined): { matrices: ViewData['matrices']; opacityPerWeight?: number } {
  return changes ? { matrices: changes.diff.magnitude, opacityPerWeight: changes.maxAbs > 0 ? 1 / changes.maxAbs : 0 } : { matrices: data.matrices };
}

function signOf(diff: DiffData, link: Link): number {
  const { rows, cols, data } = diff.delta;
  return Math.sign(data[(link.head * rows + link.query) * cols + link.key]);
}

/** The summed signed change per token on the other side of the focus (focusWeights for differences). */
function signedFocusWeights(links: readonly Link[], diff: DiffData, focus: Focus, count: number, divisor: number): Float32Array {
  const out = new Float32Array(count);
  for (const link of links) out[focus.side === 'query' ? link.key : link.query] += (signOf(diff, link) * link.weight) / Math.max(1, divisor);
  return out;
}

/** Tokens with the largest summed weight, strongest first. */
function strongestPartners(weights: Float32Array, k: number): number[] {
  return topIndices(weights, k).filter((j) => weights[j] > 0);
}

function tokenFocus(target: EventTarget | null): Focus | null {
  const element = (target as HTMLElement | null)?.closest?.('.hv-token') as HTMLElement | null;
  if (!element) return null;
  return { side: element.dataset.side as Side, index: Number(element.dataset.index) };
}
