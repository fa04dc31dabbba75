/**
 * The generation view: for the step the stepper shows, what the step's token attended to when the model
 * chose the next token — in every layer and head at once (a StepGrid per attention: self-attention, or
 * the decoder's masked self-attention and its cross-attention over the source), with the strongest keys
 * in words. The head and matrix views show the same step as their locked query row.
 */
import type { AttentionStack } from '../../src/protocol/messages';
import { isStepStack, stepRow } from '../../src/view-model/generation';
import { topIndices } from '../../src/view-model/matrices';
import { activeHeadIndices } from '../../src/view-model/selection';
import { displayTokens, tokenLabel } from '../../src/view-model/tokens';
import { formatWeight, h, observeSize } from '../dom';
import { StepGrid, type StepGridData } from './stepGrid';
import { placeholder, showEmpty, type View, type ViewContext } from './view';

const TITLES: Partial<Record<AttentionStack, string>> = { self: 'Self-attention', decoder: 'Decoder masked self-attention', cross: 'Cross-attention over the source' };

export class StepsView implements View {
  readonly element = h('section', { class: 'view steps-view' });
  private readonly heading = h('p', { class: 'sv-heading' });
  private readonly grids = new Map<AttentionStack, { grid: StepGrid; strongest: HTMLElement }>();
  private ctx: ViewContext | undefined;

  constructor() {
    observeSize(this.element, () => this.ctx && this.render(this.ctx));
  }

  render(ctx: ViewContext): void {
    this.ctx = ctx;
    const run = ctx.run, started = run.started;
    if (!started?.generation) {
      const idle = 'This view steps through generated tokens: select a prompt and run “Attention: Generate and Step Through…”.';
      if (run.failure) showEmpty(this.element, ctx, idle);
      else placeholder(this.element, idle);
      return;
    }
    const generated = run.generated();
    if (generated.length === 0) {
      if (run.failure) placeholder(this.element, 'Nothing to draw: the run stopped before its first generated token (see above).', true);
      else placeholder(this.element, run.state === 'running' ? 'Waiting for the first generated token…' : 'No token was generated.');
      return;
    }
    const step = Math.min(ctx.selection.step ?? generated.length - 1, generated.length - 1);
    const kind = started.model.kind;
    const stacks = (['self', 'decoder', 'cross'] as const).filter((stack) => isStepStack(kind, stack) && run.hasLayer(stack, 0));
    const queryTokens = run.queryTokens(stacks[0]);
    const row = stepRow(kind, started.source.tokens.length, step);
    const query = queryTokens ? tokenLabel(queryTokens.tokens[row]) : '';
    this.heading.textContent = `Step ${step + 1}: what “${query}” (token ${row}) attended to when the model generated “${tokenLabel(generated[step].text)}”.`;
    const children: HTMLElement[] = [this.heading];
    const width = Math.max(320, this.element.clientWidth - 16);
    for (const stack of stacks) {
      const data = this.gridData(ctx, stack, step, row);
      if (!data) continue;
      let entry = this.grids.get(stack);
      if (!entry) this.grids.set(stack, (entry = { grid: new StepGrid((text) => ctx.announce(text)), strongest: h('p', { class: 'sv-strongest' }) }));
      entry.grid.render(data, width, ctx.theme, ctx.selection.scale);
      entry.strongest.textContent = strongestKeys(data);
      children.push(entry.grid.element, entry.strongest);
    }
    this.element.replaceChildren(...children);
  }

  renderFocus(): void {
    // The grids show the chosen step whatever token the other views focus.
  }

  private gridData(ctx: ViewContext, stack: AttentionStack, step: number, row: number): StepGridData | undefined {
    const run = ctx.run, s = ctx.selection;
    const keyTokens = run.keyTokens(stack);
    if (!keyTokens) return undefined;
    const keys = displayTokens(keyTokens, s);
    const active = activeHeadIndices(s);
    const each = s.headMode === 'each';
    const heads = each ? active : [null];
    if (heads.length === 0) return undefined;
    const reply = ctx.data.step(run, s, stack, step, active);
    if (!reply || reply.layers.length === 0) return undefined;
    const { layers, rows: { cols, data: values } } = reply;
    const queryKey = stack === 'cross' ? -1 : keys.displayOf[row];
    return {
      title: TITLES[stack] ?? stack, layers, heads, keys: keys.labels.slice(0, cols), values,
      headLabel: each ? `${active.length} head${active.length === 1 ? '' : 's'}` : `${s.headMode} of ${active.length} heads`,
      queryKey: queryKey >= 0 && queryKey < cols ? queryKey : null,
    };
  }
}

/** The keys with the largest mean weight over every layer and shown head, in words. */
function strongestKeys(data: StepGridData): string {
  const cols = data.keys.length, rows = data.values.length / cols;
  const mean = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data.values[r * cols + c] / rows;
  const top = topIndices(mean, 5).filter((c) => mean[c] > 0);
  return `Strongest keys (mean of ${data.layers.length} layers × ${data.headLabel}): ${top.map((c) => `“${data.keys[c]}” ${formatWeight(mean[c])}`).join(', ')}.`;
}
