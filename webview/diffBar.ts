/**
 * The comparison bar above the views while the host sends a baseline: what the baseline is, a switch
 * between the differences and the plain run, the tokens removed since the baseline, and the largest
 * changes of the shown layer and heads (each a button that locks its query row). A baseline that does
 * not fit the run (another model, another kind of run) says so instead of drawing anything.
 */
import type { Baseline } from '../src/protocol/messages';
import { largestChanges, type DiffData } from '../src/view-model/diff';
import type { ViewData } from '../src/view-model/viewData';
import { formatWeight, h } from './dom';
import type { ViewContext } from './views/view';

const CHANGES_LISTED = 8;
/** Views that draw differences; the others show the current run. */
const DIFF_VIEWS = new Set(['head', 'matrix', 'model', 'cross']);

type CompareState = 'none' | 'on' | 'off' | 'problem';

export class DiffBar {
  readonly element = h('section', { class: 'diff-bar', 'aria-label': 'Comparison with the baseline', hidden: true });
  private readonly toggle = h('input', { type: 'checkbox', id: 'diff-toggle' });
  private readonly description = h('span', { class: 'diff-description' });
  private readonly problem = h('p', { class: 'diff-problem', role: 'alert' });
  private readonly removed = h('p', { class: 'diff-removed' });
  private readonly changes = h('ol', { class: 'diff-changes', 'aria-label': 'Largest changes since the baseline' });
  private ctx: ViewContext | undefined;

  constructor() {
    this.toggle.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, compare: this.toggle.checked })));
    this.changes.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLElement>('.diff-change');
      if (!button) return;
      const query = Number(button.dataset.query), head = Number(button.dataset.head);
      this.ctx?.update((s) => ({ ...s, focus: { side: 'query', index: query }, locked: true, ...(s.headMode === 'each' && { head }) }));
    });
    this.element.append(
      h('div', { class: 'diff-header' }, h('label', {}, this.toggle, ' Show changes since the baseline'), this.description),
      this.problem, this.removed, this.changes,
    );
  }

  /** Shows the comparison of `data` (the current view's) with `baseline`; returns what the panel shows. */
  sync(ctx: ViewContext, baseline: Baseline | null, problem: string | undefined, data: ViewData | undefined): CompareState {
    this.ctx = ctx;
    this.element.hidden = !baseline;
    if (!baseline) return 'none';
    const on = ctx.selection.compare;
    this.toggle.checked = on;
    this.problem.hidden = !problem;
    this.problem.textContent = problem ?? '';
    const source = baseline.source;
    const text = source.text ?? source.tokens.join(' ');
    // A baseline that does not fit has no switch and no legend: nothing is compared.
    this.toggle.parentElement!.hidden = !!problem;
    const legend = DIFF_VIEWS.has(ctx.selection.view) ? 'Orange: more attention than in the baseline, blue: less; a bar marks tokens new since the baseline.' : 'This view shows the current run; the head, matrix, model and cross-attention views show the changes.';
    this.description.textContent = `Baseline: “${text.length > 80 ? `${text.slice(0, 79)}…` : text}” (${source.tokens.length} tokens). ${problem ? '' : legend}`;
    const diff = !problem && on && data ? ctx.diff(data) : undefined;
    this.renderRemoved(diff);
    this.renderChanges(diff, data);
    const state: CompareState = problem ? 'problem' : on ? 'on' : 'off';
    this.element.dataset.state = state;
    return state;
  }

  private renderRemoved(diff: DiffData | undefined): void {
    const removed = new Map<number, string>();
    for (const t of [...(diff?.removedQueries ?? []), ...(diff?.removedKeys ?? [])]) removed.set(t.index, t.label);
    this.removed.hidden = removed.size === 0;
    this.removed.replaceChildren('Removed since the baseline: ', ...[...removed].flatMap(([index, label], i) => [
      i ? ', ' : '', h('span', { class: 'removed-token', 'data-index': index }, `“${label}” (${index})`),
    ]));
  }

  private renderChanges(diff: DiffData | undefined, data: ViewData | undefined): void {
    const changes = diff && data ? largestChanges(diff, data, data.heads, CHANGES_LISTED) : [];
    this.changes.hidden = changes.length === 0;
    const aggregate = this.ctx?.selection.headMode !== 'each';
    this.changes.replaceChildren(...changes.map((c) => h('li', {}, h('button', { class: 'diff-change', 'data-query': c.query, 'data-head': c.head, 'data-delta': c.delta.toFixed(6), title: 'Lock this query' },
      `${aggregate ? data!.headLabel : `head ${c.head}`} · “${data!.queries.labels[c.query]}” (${c.query}) → “${data!.keys.labels[c.key]}” (${c.key}): `
      + `${c.delta > 0 ? '+' : '−'}${formatWeight(Math.abs(c.delta))} (${formatWeight(c.baseline)} → ${formatWeight(c.current)})`))));
  }
}
