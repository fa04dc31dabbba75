/**
 * The Heads view: which heads do what. One score at a time (previous-token, sink share, entropy,
 * induction, … from src/engine/analysis) as a layer × head heatmap with its legend and as a ranked
 * list that sorts by any column; clicking a head opens it alone in the Head view. Scores follow the
 * toolbar's weighting (value-weighted, sinks hidden); the stack's detected sinks are named.
 */
import type { HeadScoreName, HeadScoresReply, InductionReply } from '../../src/protocol/data';
import { cssRgb, rampIndex, scaleTicks, type Rgb } from '../../src/view-model/colors';
import type { Selection } from '../../src/view-model/selection';
import { tokenLabel } from '../../src/view-model/tokens';
import { weightingLabel } from '../../src/view-model/weighting';
import { h } from '../dom';
import { Legend } from '../legend';
import { placeholder, showEmpty, type View, type ViewContext } from './view';

const SCORE_TITLES: Record<HeadScoreName, string> = {
  induction: 'induction (BOS + R + R)',
  previous_token: 'previous token',
  duplicate_token: 'duplicate token',
  first_token: 'first-token share',
  sink_share: 'sink share',
  entropy: 'entropy (nats)',
  entropy_normalised: 'entropy ÷ ln(keys)',
  mean_distance: 'mean distance (tokens)',
};

type SortKey = 'score' | 'layer' | 'head';

/** One score of every head: [layers · heads], or why there is none, or undefined while it is on its way. */
type Table = { readonly values: Float32Array; readonly layers: number; readonly heads: number; readonly note?: string } | string | undefined;

export class HeadsView implements View {
  readonly element = h('section', { class: 'view heads-view' });
  private readonly scoreSelect = h('select', { class: 'hs-score', 'aria-label': 'Score' });
  private readonly legend = new Legend();
  private score: HeadScoreName = 'induction';
  private sort: { by: SortKey; descending: boolean } = { by: 'score', descending: true };
  private ctx: ViewContext | undefined;

  constructor() {
    for (const [name, title] of Object.entries(SCORE_TITLES)) this.scoreSelect.append(h('option', { value: name }, title));
    this.scoreSelect.addEventListener('change', () => {
      this.score = this.scoreSelect.value as HeadScoreName;
      if (this.ctx) this.render(this.ctx);
    });
    this.element.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      const head = target.closest<HTMLElement>('[data-head][data-layer]');
      if (head) return this.open(Number(head.dataset.layer), Number(head.dataset.head));
      const sort = target.closest<HTMLElement>('[data-sort]');
      if (!sort || !this.ctx) return;
      const by = sort.dataset.sort as SortKey;
      this.sort = { by, descending: this.sort.by === by ? !this.sort.descending : by === 'score' };
      this.render(this.ctx);
    });
  }

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const s = ctx.selection, run = ctx.run;
    if (!run.started || (run.failure && !run.layersReceived)) return showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
    this.scoreSelect.value = this.score;
    const table = this.table(ctx, s);
    const controls = h('div', { class: 'hs-controls' }, h('label', {}, 'Score ', this.scoreSelect), this.sinksNote(ctx, s));
    if (typeof table !== 'object') {
      const waiting = this.score === 'induction'
        ? 'Running the induction recipe: the model reads BOS + R + R, R being 50 random tokens…'
        : `Waiting for every layer (${run.layersReceived} so far)…`;
      placeholder(this.element, table ?? waiting);
      this.element.prepend(controls);
      return;
    }
    const max = table.values.reduce((m, v) => (v > m ? v : m), 0);
    const weighting = weightingLabel(s);
    this.legend.sync({
      ramp: ctx.theme.ramp, ticks: scaleTicks(max, 'linear'),
      caption: `${s.stack} · ${SCORE_TITLES[this.score]} of every layer and head${weighting ? ` · ${weighting}` : ''}`,
      note: table.note,
    });
    this.element.replaceChildren(controls, this.legend.element, h('div', { class: 'hs-body' }, this.grid(ctx, table, max), this.ranking(table)));
    this.element.dataset.score = this.score;
  }

  renderFocus(): void {
    // Scores are of whole heads: a focused token changes nothing here.
  }

  /** The chosen score of every head, from the scores reply or the induction recipe's. */
  private table(ctx: ViewContext, s: Selection): Table {
    if (this.score === 'induction') {
      const reply: InductionReply | undefined = ctx.data.induction(ctx.run, s, s.stack);
      if (!reply) return undefined;
      if (!reply.values) return reply.unavailable ?? 'No induction scores.';
      const layers = ctx.run.started!.model.numLayers;
      return { values: reply.values, layers, heads: reply.values.length / layers, note: `N = ${reply.n}, seed ${reply.seed}: the mean of A[i, i − N + 1] over the second copy` };
    }
    const reply: HeadScoresReply | undefined = ctx.data.headScores(ctx.run, s, s.stack);
    if (!reply) return undefined;
    if (reply.unavailable) return reply.unavailable;
    const score = reply.scores.find((t) => t.name === this.score);
    if (!score) return `No ${SCORE_TITLES[this.score]} scores.`;
    if (score.notDefined) return `${SCORE_TITLES[this.score]} is not defined here: ${score.notDefined}.`;
    return { values: score.values, layers: reply.layers, heads: reply.heads };
  }

  private sinksNote(ctx: ViewContext, s: Selection): HTMLElement {
    const sinks = ctx.data.sinks(ctx.run, s.stack);
    const tokens = ctx.run.keyTokens(s.stack)?.tokens ?? [];
    const named = sinks?.map((sink) => `${sink.position} “${tokenLabel(tokens[sink.position] ?? '')}” (${Math.round(100 * sink.headFraction)}% of heads)`);
    return h('span', { class: 'hs-sinks' }, sinks === undefined ? '' : named?.length ? `Sinks: ${named.join(', ')}` : 'No attention sink detected');
  }

  /** Layers down, heads across, one button per head coloured by its score. */
  private grid(ctx: ViewContext, table: Exclude<Table, string | undefined>, max: number): HTMLElement {
    const grid = h('div', { class: 'hs-grid', role: 'grid', 'aria-label': `${SCORE_TITLES[this.score]}: ${table.layers} layers by ${table.heads} heads. Each button opens that head in the Head view.` });
    grid.style.gridTemplateColumns = `auto repeat(${table.heads}, minmax(1.6em, 2.4em))`;
    grid.append(h('span', {}), ...Array.from({ length: table.heads }, (_, head) => h('span', { class: 'hs-axis', role: 'columnheader' }, `${head}`)));
    for (let layer = 0; layer < table.layers; layer++) {
      grid.append(h('span', { class: 'hs-axis', role: 'rowheader' }, `L${layer}`));
      for (let head = 0; head < table.heads; head++) {
        const value = table.values[layer * table.heads + head];
        const cell = h('button', { class: 'hs-cell', role: 'gridcell', 'data-layer': layer, 'data-head': head, title: `L${layer}H${head}: ${formatScore(value)}` });
        cell.style.backgroundColor = Number.isFinite(value) ? cssRgb(rampColor(ctx.theme.ramp, max > 0 ? value / max : 0)) : 'transparent';
        grid.append(cell);
      }
    }
    return grid;
  }

  /** Every head ranked by the sort key; each row's head opens it. */
  private ranking(table: Exclude<Table, string | undefined>): HTMLElement {
    const rows = Array.from(table.values, (value, i) => ({ layer: Math.floor(i / table.heads), head: i % table.heads, value }));
    const { by, descending } = this.sort;
    const key = (r: (typeof rows)[number]) => (by === 'score' ? (Number.isFinite(r.value) ? r.value : -Infinity) : by === 'layer' ? r.layer * table.heads + r.head : r.head * table.layers + r.layer);
    rows.sort((a, b) => (descending ? key(b) - key(a) : key(a) - key(b)));
    const header = (sortKey: SortKey, title: string) => {
      const sorted = by === sortKey ? (descending ? 'descending' : 'ascending') : 'none';
      return h('th', { 'aria-sort': sorted }, h('button', { class: 'hs-sort', 'data-sort': sortKey }, title));
    };
    return h('table', { class: 'hs-rank' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), header('layer', 'layer'), header('head', 'head'), header('score', SCORE_TITLES[this.score]))),
      h('tbody', {}, ...rows.map((r, rank) => h('tr', {},
        h('td', {}, `${rank + 1}`), h('td', {}, `${r.layer}`),
        h('td', {}, h('button', { class: 'hs-open', 'data-layer': r.layer, 'data-head': r.head, title: `Open layer ${r.layer}, head ${r.head} alone in the Head view` }, `L${r.layer}H${r.head}`)),
        h('td', { class: 'hs-value' }, formatScore(r.value))))));
  }

  /** That head alone, in its layer, in the Head view (the Cross-attention view for cross-attention). */
  private open(layer: number, head: number): void {
    this.ctx?.update((s) => ({
      ...s, view: s.stack === 'cross' ? 'cross' : 'head', layer, layerReduction: 'single', headMode: 'each', head,
      activeHeads: s.activeHeads.map((_, i) => i === head), focus: null, locked: false,
    }));
  }
}

function rampColor(ramp: Uint8ClampedArray, scaled: number): Rgb {
  const at = rampIndex(scaled) * 4;
  return [ramp[at], ramp[at + 1], ramp[at + 2]];
}

function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '—';
}
