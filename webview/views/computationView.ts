/**
 * The step-by-step view: for one head and one query token, the tutorial's formula with this model's
 * numbers along the stages this layer really has (computationStages.ts) — q·k per key, the scale, the
 * soft-cap, the bias, the mask, the softmax weight, the weighted values and their sum — then the
 * head's output and its slice of concat(head₀ … head_H) · W_O.
 */
import { cssRgb, headColor } from '../../src/view-model/colors';
import type { Computation, KeyStep } from '../../src/protocol/data';
import { kvHeadOf } from '../../src/view-model/computation';
import { topIndices } from '../../src/view-model/matrices';
import { tokenLabel } from '../../src/view-model/tokens';
import type { LayerMessage, PanelTokens } from '../../src/protocol/messages';
import { formatWeight, h } from '../dom';
import { formulaText, stageList, vector } from './computationStages';
import { placeholder, showEmpty, type View, type ViewContext } from './view';

/** Keys listed in the table; longer inputs list their strongest keys (the sums still use all). */
const MAX_TABLE_KEYS = 64;
const VECTOR_DIMS = 6;
const MASK_REASON = { causal: 'causal', window: 'window' } as const;

export class ComputationView implements View {
  readonly element = h('section', { class: 'view computation-view' });
  private ctx: ViewContext | undefined;
  /** The model token the table is for, when no display token is focused. */
  private query = -1;

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const s = ctx.selection;
    const started = ctx.run.started;
    const layer = started && ctx.run.layer(s.stack, s.layerReduction === 'single' ? s.layer : 0);
    if (!started || !layer) {
      showEmpty(this.element, ctx, 'Select text and run “Attention: Inspect Selection”.');
      return;
    }
    const queries = ctx.run.queryTokens(s.stack)!, keys = ctx.run.keyTokens(s.stack)!;
    const query = this.queryToken(ctx, layer);
    const head = Math.min(s.head, layer.numHeads - 1);
    const reply = ctx.data.computation(ctx.run, s.stack, layer.layer, head, query);
    if (!reply) {
      placeholder(this.element, `Computing layer ${layer.layer}, head ${head} step by step (the engine runs the input again for this layer's exact numbers)…`);
      return;
    }
    if (!reply.computation) {
      placeholder(this.element, reply.unavailable ?? 'The step-by-step data cannot be had for this run.');
      return;
    }
    const steps = reply.computation;
    const notes: string[] = [];
    if (s.layerReduction !== 'single') notes.push(`Layers are ${s.layerReduction}-aggregated elsewhere; this view shows layer ${layer.layer}.`);
    if (s.hideSpecial || s.mergeWords) notes.push('This view uses the model’s own tokens (no words merged, nothing hidden).');
    this.element.replaceChildren(
      this.controls(ctx, layer, queries, head, query),
      ...notes.map((n) => h('p', { class: 'note' }, n)),
      formula(steps),
      stageList(steps),
      this.table(steps, keys),
      output(steps, layer, started.model.hiddenSize, queries, query),
    );
  }

  renderFocus(ctx: ViewContext): void {
    const focus = ctx.selection.focus;
    // Follows the focused query token (a change of query redraws the table).
    if (focus?.side === 'query' && ctx.selection.locked) this.render(ctx);
  }

  /** The focused query (its last model token), else the last one chosen here, else the last token. */
  private queryToken(ctx: ViewContext, layer: LayerMessage): number {
    const s = ctx.selection;
    const data = ctx.data.get(ctx.run, s);
    if (s.focus?.side === 'query' && data && s.focus.index < data.queries.groups.length) {
      const group = data.queries.groups[s.focus.index];
      this.query = group[group.length - 1];
    }
    if (this.query < 0 || this.query >= layer.queryLength) this.query = layer.queryLength - 1;
    return this.query;
  }

  private controls(ctx: ViewContext, layer: LayerMessage, queries: PanelTokens, head: number, query: number): HTMLElement {
    const headSelect = h('select', { 'aria-label': 'Head' });
    for (let i = 0; i < layer.numHeads; i++) headSelect.append(h('option', { value: i, selected: i === head }, `head ${i}`));
    headSelect.addEventListener('change', () => ctx.update((s) => ({ ...s, head: Number(headSelect.value) })));
    const querySelect = h('select', { 'aria-label': 'Query token' });
    queries.tokens.forEach((t, i) => querySelect.append(h('option', { value: i, selected: i === query }, `${i}: ${tokenLabel(t)}`)));
    querySelect.addEventListener('change', () => {
      this.query = Number(querySelect.value);
      ctx.update((s) => ({ ...s, focus: null, locked: false }));
      this.render(this.ctx!);
    });
    return h('div', { class: 'cv-controls' }, h('label', {}, 'Head ', headSelect), h('label', {}, 'Query ', querySelect),
      h('span', { class: 'note' }, `layer ${layer.layer} · kv head ${kvHeadOf(head, layer.numHeads, layer.numKvHeads)} of ${layer.numKvHeads} · dₖ = ${layer.headDim}`));
  }

  private table(c: Computation, keys: PanelTokens): HTMLElement {
    const shown = c.steps.length <= MAX_TABLE_KEYS
      ? c.steps
      : topIndices(Float32Array.from(c.steps, (s) => s.weight), MAX_TABLE_KEYS).sort((a, b) => a - b).map((j) => c.steps[j]);
    const r = c.recipe;
    const columns = [
      'key', 'q·k', r.scaleSource === 'none' ? 'score' : `× ${c.scaleLabel}`, ...(r.softCap !== undefined ? [`${r.softCap}·tanh(·/${r.softCap})`] : []),
      ...(r.positionBias ? ['+ bias'] : []), '+ mask', 'softmax', `weight · v (first ${Math.min(VECTOR_DIMS, c.headDim)} of ${c.headDim})`,
    ];
    const head = h('tr', {}, ...columns.map((name) => h('th', { scope: 'col' }, name)));
    const rows = shown.map((step) => stepRow(step, c, keys));
    const blanks = columns.length - 3;
    const sum = h('tr', { class: 'sum' }, h('th', { scope: 'row' }, 'Σ'), ...Array.from({ length: blanks }, () => h('td', {})),
      h('td', {}, formatWeight(c.steps.reduce((a, s) => a + s.weight, 0))), h('td', { class: 'vector' }, vector(c.output)));
    const caption = h('caption', {}, c.steps.length > shown.length
      ? `The ${shown.length} keys with the largest weights of ${c.steps.length}, in order; the sums use all keys.`
      : `Every key (${c.steps.length}).`);
    return h('div', { class: 'cv-table-wrap' }, h('table', { class: 'cv-table' }, caption, h('thead', {}, head), h('tbody', {}, ...rows, sum)));
  }
}

function stepRow(step: KeyStep, c: Computation, keys: PanelTokens): HTMLElement {
  const v = c.values.subarray(step.key * c.headDim, (step.key + 1) * c.headDim);
  const weighted = Float32Array.from(v, (x) => x * step.weight);
  const r = c.recipe;
  return h('tr', { class: step.masked ? `masked ${step.masked}` : '' },
    h('th', { scope: 'row' }, `${step.key}: ${tokenLabel(keys.tokens[step.key])}`),
    h('td', {}, step.dot.toFixed(3)),
    h('td', {}, step.scaled.toFixed(3)),
    ...(r.softCap !== undefined ? [h('td', { class: 'capped' }, step.capped!.toFixed(3))] : []),
    ...(r.positionBias ? [h('td', {}, step.masked ? '' : step.bias.toFixed(3))] : []),
    h('td', {}, step.masked ? `−∞ (${MASK_REASON[step.masked]})` : '0'),
    h('td', { class: 'weight' }, step.masked ? '0' : formatWeight(step.weight)),
    h('td', { class: 'vector' }, step.masked ? '' : vector(weighted)),
  );
}

function formula(c: Computation): HTMLElement {
  const text = formulaText(c);
  return h('div', { class: 'cv-formula' }, h('p', { class: 'formula', 'aria-label': text }, text));
}

function output(c: Computation, layer: LayerMessage, hiddenSize: number, queries: PanelTokens, query: number): HTMLElement {
  let diff = 0;
  c.output.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - c.engineOutput[i]))));
  const strip = h('div', { class: 'cv-concat', role: 'img', 'aria-label': `Head ${c.head}'s output is slice ${c.head} of ${layer.numHeads} in the concatenation.` });
  for (let head = 0; head < layer.numHeads; head++) {
    const segment = h('span', { class: head === c.head ? 'segment current' : 'segment' }, `${head}`);
    if (head === c.head) segment.style.backgroundColor = cssRgb(headColor(head), 0.55);
    strip.append(segment);
  }
  const width = layer.numHeads * layer.headDim;
  return h('div', { class: 'cv-output' },
    h('p', {}, `Output of head ${c.head} for “${tokenLabel(queries.tokens[query])}” = Σ weight · v: `, vector(c.output),
      ` — the engine's: `, vector(c.engineOutput), ` (largest difference ${diff.toExponential(1)}; each stage recomputed here matches the engine's within ${Math.max(c.checks.scaled, c.checks.capped ?? 0, c.checks.softmax).toExponential(1)}).`),
    strip,
    h('p', { class: 'note' }, `concat(head 0 … head ${layer.numHeads - 1}) is a [1 × ${width}] row; × W_O [${width} × ${hiddenSize}] gives this token's attention output, which the residual connection adds to its hidden state.`),
  );
}
