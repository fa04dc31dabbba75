/**
 * The logit-lens view: what the model would predict at each position if it stopped after each layer
 * (its own head on that layer's output), the embeddings at the top and the model's prediction at the
 * bottom. Each cell shows the most likely token and its probability, shaded by it; hovering a cell (or
 * focusing it) lists its top 5.
 */
import type { LogitLens } from '../../src/protocol/data';
import { cssRgb } from '../../src/view-model/colors';
import { tokenLabel } from '../../src/view-model/tokens';
import { h } from '../dom';
import { placeholder, showEmpty, type View, type ViewContext } from './view';

export class LensView implements View {
  readonly element = h('section', { class: 'view lens-view' });
  private readonly tooltip = h('div', { class: 'mv-tooltip lv-tooltip', role: 'status', hidden: true });
  private lens: LogitLens | undefined;
  private names = new Map<number, string>();

  constructor() {
    const show = (e: Event) => {
      const cell = (e.target as HTMLElement).closest<HTMLElement>('.lv-cell');
      if (cell) this.showTop(cell);
    };
    this.element.addEventListener('pointerover', show);
    this.element.addEventListener('focusin', show);
    this.element.addEventListener('pointerleave', () => (this.tooltip.hidden = true));
  }

  render(ctx: ViewContext): void {
    const run = ctx.run;
    if (!run.started || (run.failure && !run.layersReceived)) return showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
    const reply = run.state === 'running' ? undefined : ctx.data.logitLens(run);
    if (!reply) return placeholder(this.element, run.state === 'running' ? 'The logit lens runs once the run is done.' : 'Running the logit lens: the model’s head on every layer’s output…');
    if (!reply.lens) return placeholder(this.element, reply.unavailable ?? 'No logit lens for this run.');
    const lens = (this.lens = reply.lens);
    this.names = new Map(Array.from(lens.vocabulary.ids, (id, i) => [id, lens.vocabulary.tokens[i]]));
    const positions = run.queryTokens(lens.stack)?.tokens ?? [];
    const head = h('tr', {}, h('th', { scope: 'col' }, ''), ...Array.from({ length: lens.positions }, (_, p) => h('th', { scope: 'col', class: 'lv-position', title: `position ${p}` }, tokenLabel(positions[p] ?? `${p}`))));
    const rows = Array.from({ length: lens.layers }, (_, layer) => h('tr', {},
      h('th', { scope: 'row' }, layer === 0 ? 'embeddings' : `layer ${layer - 1}${layer === lens.layers - 1 ? ' (output)' : ''}`),
      ...Array.from({ length: lens.positions }, (_, position) => this.cell(ctx, lens, layer, position))));
    const caption = `${ctx.run.started?.model.name ?? ''} · the most likely next token after each layer, and its probability (hover a cell for its top ${lens.top})`;
    this.tooltip.hidden = true;
    this.element.replaceChildren(h('p', { class: 'lv-caption' }, caption), h('div', { class: 'lv-scroll' }, h('table', { class: 'lv-grid' }, h('thead', {}, head), h('tbody', {}, ...rows)), this.tooltip));
  }

  renderFocus(): void {
    // The lens is per position and layer: the shared token focus does not change it.
  }

  private cell(ctx: ViewContext, lens: LogitLens, layer: number, position: number): HTMLElement {
    const at = (layer * lens.positions + position) * lens.top;
    const p = lens.probs[at];
    const cell = h('td', { class: 'lv-cell', tabindex: 0, 'data-layer': layer, 'data-position': position, title: this.topText(lens, layer, position) },
      h('span', { class: 'lv-token' }, this.token(lens.ids[at])), h('span', { class: 'lv-p' }, p.toFixed(2)));
    cell.style.backgroundColor = cssRgb(ctx.theme.heat, 0.75 * p);
    return cell;
  }

  private token(id: number): string {
    return id < 0 ? '' : tokenLabel(this.names.get(id) ?? String(id));
  }

  /** "1. “the” 0.412" per line, the top tokens of one cell. */
  private topText(lens: LogitLens, layer: number, position: number): string {
    const at = (layer * lens.positions + position) * lens.top;
    return Array.from({ length: lens.top }, (_, k) => k)
      .filter((k) => lens.ids[at + k] >= 0)
      .map((k) => `${k + 1}. “${this.token(lens.ids[at + k])}” ${lens.probs[at + k].toFixed(3)}`).join('\n');
  }

  private showTop(cell: HTMLElement): void {
    const lens = this.lens;
    if (!lens) return;
    const layer = Number(cell.dataset.layer), position = Number(cell.dataset.position);
    this.tooltip.hidden = false;
    this.tooltip.textContent = `${layer === 0 ? 'embeddings' : `layer ${layer - 1}`}, position ${position}\n${this.topText(lens, layer, position)}`;
    this.tooltip.style.left = `${cell.offsetLeft + cell.offsetWidth + 4}px`;
    this.tooltip.style.top = `${cell.offsetTop}px`;
  }
}
