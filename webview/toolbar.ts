/**
 * The controls above the views: view tabs, stack, layer (or its mean/max), head mode and one swatch per
 * head (click toggles, double-click or Shift+Enter solos), scale, token clean-up and export. Built once
 * and updated in place, so keyboard focus stays on the control in use.
 */
import type { AttentionStack, ExportFormat } from '../src/protocol/messages';
import { cssRgb, headColor } from '../src/view-model/colors';
import { soloHead, toggleHead, withTokenOptions, type HeadMode, type Selection, type ViewName } from '../src/view-model/selection';
import { tokenLabel } from '../src/view-model/tokens';
import { h } from './dom';
import type { ViewContext } from './views/view';

const VIEW_TITLES: Record<ViewName, string> = {
  head: 'Head', model: 'Model', matrix: 'Matrix', computation: 'Step by step', cross: 'Cross-attention', steps: 'Generation',
  heads: 'Heads', rollout: 'Rollout', lens: 'Logit lens',
};
const STACK_TITLES: Record<AttentionStack, string> = { self: 'self-attention', encoder: 'encoder self-attention', decoder: 'decoder masked self-attention', cross: 'cross-attention' };

export class Toolbar {
  readonly element = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Attention view controls' });
  private readonly tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' });
  private readonly tabButtons = new Map<ViewName, HTMLButtonElement>();
  private readonly stack = h('select', { 'aria-label': 'Attention' });
  private readonly layer = h('select', { 'aria-label': 'Layer' });
  private readonly headMode = h('select', { 'aria-label': 'Heads' });
  private readonly swatches = h('div', { class: 'swatches', role: 'group', 'aria-label': 'Heads: click toggles, double-click or Shift+Enter shows only that head' });
  private readonly scale = h('select', { 'aria-label': 'Color scale' });
  private readonly hideSpecial = h('input', { type: 'checkbox' });
  private readonly mergeWords = h('input', { type: 'checkbox' });
  private readonly valueWeighted = h('input', { type: 'checkbox', class: 'value-weighted' });
  private readonly hideSinks = h('input', { type: 'checkbox', class: 'hide-sinks' });
  private readonly hideSinksLabel = h('label', {}, this.hideSinks, ' Hide sinks');
  private readonly exports = new Map<ExportFormat, HTMLButtonElement>();
  private ctx: ViewContext | undefined;
  private swatchLayout = '';

  constructor(onExport: (format: ExportFormat) => void) {
    for (const view of Object.keys(VIEW_TITLES) as ViewName[]) {
      const tab = h('button', { role: 'tab', class: 'tab', id: `tab-${view}`, 'aria-controls': 'views' }, VIEW_TITLES[view]);
      tab.addEventListener('click', () => this.ctx?.update((s) => ({ ...s, view })));
      this.tabButtons.set(view, tab);
      this.tabs.append(tab);
    }
    this.tabs.addEventListener('keydown', (e) => this.onTabKey(e));
    addOptions(this.headMode, [['each', 'each head'], ['mean', 'mean of heads'], ['max', 'max of heads']]);
    addOptions(this.scale, [['linear', 'linear'], ['log', 'log']]);
    this.stack.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, stack: this.stack.value as AttentionStack, focus: null, locked: false })));
    this.layer.addEventListener('change', () => this.ctx?.update((s) => layerChoice(s, this.layer.value)));
    this.headMode.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, headMode: this.headMode.value as HeadMode })));
    this.scale.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, scale: this.scale.value === 'log' ? 'log' : 'linear' })));
    const tokenOptions = () => this.ctx?.update((s) => withTokenOptions(s, this.hideSpecial.checked, this.mergeWords.checked));
    this.hideSpecial.addEventListener('change', tokenOptions);
    this.mergeWords.addEventListener('change', tokenOptions);
    this.valueWeighted.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, valueWeighted: this.valueWeighted.checked })));
    this.hideSinks.addEventListener('change', () => this.ctx?.update((s) => ({ ...s, hideSinks: this.hideSinks.checked })));
    this.swatches.addEventListener('click', (e) => this.onSwatch(e, toggleHead));
    this.swatches.addEventListener('dblclick', (e) => this.onSwatch(e, soloHead));
    this.swatches.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || !e.shiftKey) return;
      e.preventDefault();
      this.onSwatch(e, soloHead);
    });
    const exportGroup = h('div', { class: 'exports', role: 'group', 'aria-label': 'Export' });
    for (const [format, label] of [['png', 'PNG'], ['svg', 'SVG'], ['json', 'JSON'], ['html', 'HTML']] as const) {
      const button = h('button', { class: 'export', title: `Save the ${format === 'json' ? 'matrices of this attention as JSON' : format === 'html' ? 'run as a standalone HTML report' : `picture as ${label}`}` }, label);
      button.addEventListener('click', () => onExport(format));
      this.exports.set(format, button);
      exportGroup.append(button);
    }
    this.element.append(
      this.tabs,
      h('div', { class: 'controls' },
        h('label', {}, this.stack), h('label', {}, this.layer), h('label', {}, this.headMode), this.swatches,
        h('label', {}, 'Scale ', this.scale),
        h('label', {}, this.hideSpecial, ' Hide special tokens'), h('label', {}, this.mergeWords, ' Merge subwords into words'),
        h('label', { title: 'Weigh each attention weight by the size of what its key’s value adds to the head’s output, ‖W_O,h · v_j‖ (Kobayashi et al. 2020), rows renormalised' }, this.valueWeighted, ' Value-weighted'),
        this.hideSinksLabel,
        exportGroup),
    );
  }

  sync(ctx: ViewContext): void {
    this.ctx = ctx;
    const s = ctx.selection, run = ctx.run, started = run.started;
    const stacks = run.stacks();
    for (const [view, tab] of this.tabButtons) {
      tab.hidden = (view === 'cross' && !stacks.includes('cross')) || (view === 'steps' && !started?.generation);
      tab.setAttribute('aria-selected', String(view === s.view));
      tab.tabIndex = view === s.view ? 0 : -1;
    }
    const stackChoices = stacks.filter((st) => s.view !== 'cross' || st === 'cross');
    replaceOptions(this.stack, stackChoices.map((st) => [st, STACK_TITLES[st]]), s.view === 'cross' ? 'cross' : s.stack);
    this.stack.parentElement!.hidden = stackChoices.length < 2;
    const layerCount = Math.max(started?.model.numLayers ?? 0, run.layerCount(s.stack));
    const layerOptions: [string, string][] = Array.from({ length: layerCount }, (_, l) => [`${l}`, `layer ${l}${run.hasLayer(s.stack, l) ? '' : ' (computing…)'}`]);
    replaceOptions(this.layer, [...layerOptions, ['mean', 'mean of layers'], ['max', 'max of layers']], s.layerReduction === 'single' ? `${s.layer}` : s.layerReduction);
    this.headMode.value = s.headMode;
    this.scale.value = s.scale;
    this.hideSpecial.checked = s.hideSpecial;
    this.mergeWords.checked = s.mergeWords;
    this.mergeWords.disabled = !started || started.source.text === null;
    this.valueWeighted.checked = s.valueWeighted;
    this.hideSinks.checked = s.hideSinks;
    this.syncSinks(ctx);
    this.syncSwatches(s, started?.model.numKvHeads ?? 0);
    const pictures = s.view === 'head' || s.view === 'matrix' || s.view === 'cross';
    for (const format of ['png', 'svg'] as const) this.exports.get(format)!.disabled = !pictures || !run.layersReceived;
    this.exports.get('json')!.disabled = this.exports.get('html')!.disabled = !run.layersReceived;
  }

  /** The hide-sinks toggle names the sinks it hides. */
  private syncSinks(ctx: ViewContext): void {
    const stack = ctx.selection.view === 'cross' ? 'cross' : ctx.selection.stack;
    // While layers stream in, the label waits for the run (each asking would have the host read every
    // new layer whole) unless the sinks are hidden already.
    const wanted = ctx.run.layersReceived > 0 && (ctx.run.state !== 'running' || ctx.selection.hideSinks);
    const sinks = wanted ? ctx.data.sinks(ctx.run, stack) : undefined;
    const tokens = ctx.run.keyTokens(stack)?.tokens ?? [];
    const named = sinks?.map((s) => `${s.position} “${tokenLabel(tokens[s.position] ?? '')}”`).join(', ');
    this.hideSinksLabel.title = sinks === undefined ? 'Hide the positions that draw attention whatever the query asks (attention sinks), renormalising each row'
      : named ? `Hide the attention sinks (${named}) and renormalise each row` : 'No attention sink detected in this attention';
    this.hideSinksLabel.dataset.sinks = sinks?.map((s) => s.position).join(',') ?? '';
  }

  /** One swatch per head; heads that share a key/value head (GQA) sit together under its label. */
  private syncSwatches(s: Selection, numKvHeads: number): void {
    const count = s.activeHeads.length;
    const perKv = numKvHeads > 0 && numKvHeads < count && count % numKvHeads === 0 ? count / numKvHeads : 1;
    const layout = `${count}/${perKv}`;
    if (this.swatchLayout !== layout) {
      this.swatchLayout = layout;
      const swatch = (head: number) => h('button', { class: 'head-swatch', 'data-head': head, title: `Head ${head}: click toggles, double-click (or Shift+Enter) shows only this head` }, `${head}`);
      const heads = Array.from({ length: count }, (_, head) => head);
      this.swatches.replaceChildren(...(perKv === 1 ? heads.map(swatch) : Array.from({ length: count / perKv }, (_, kv) => {
        const group = heads.slice(kv * perKv, (kv + 1) * perKv);
        return h('span', { class: 'kv-group', 'data-kv': kv, title: `Heads ${group[0]}–${group[group.length - 1]} share key/value head ${kv} (grouped-query attention)` },
          h('span', { class: 'kv-label' }, `kv ${kv}`), ...group.map(swatch));
      })));
    }
    this.swatches.querySelectorAll<HTMLElement>('.head-swatch').forEach((swatch, head) => {
      const on = s.activeHeads[head];
      swatch.setAttribute('aria-pressed', String(on));
      swatch.setAttribute('aria-label', `Head ${head}${on ? ', shown' : ', hidden'}`);
      swatch.style.backgroundColor = on ? cssRgb(headColor(head)) : 'transparent';
      swatch.style.borderColor = cssRgb(headColor(head));
    });
    this.swatches.classList.toggle('aggregate', s.headMode !== 'each');
  }

  private onSwatch(event: Event, change: (s: Selection, head: number) => Selection): void {
    const swatch = (event.target as HTMLElement).closest<HTMLElement>('.head-swatch');
    if (swatch) this.ctx?.update((s) => change(s, Number(swatch.dataset.head)));
  }

  /** Arrow keys move between tabs (the WAI-ARIA tabs pattern). */
  private onTabKey(event: KeyboardEvent): void {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const visible = [...this.tabButtons].filter(([, tab]) => !tab.hidden);
    const at = visible.findIndex(([view]) => view === this.ctx?.selection.view);
    const [view, tab] = visible[(at + (event.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
    this.ctx?.update((s) => ({ ...s, view }));
    tab.focus();
    event.preventDefault();
  }
}

function layerChoice(s: Selection, value: string): Selection {
  if (value === 'mean' || value === 'max') return { ...s, layerReduction: value };
  return { ...s, layerReduction: 'single', layer: Number(value) };
}

function addOptions(select: HTMLSelectElement, options: [string, string][]): void {
  for (const [value, label] of options) select.append(h('option', { value }, label));
}

/** Rebuilds a select's options only when they changed (streaming updates "computing…" labels). */
function replaceOptions(select: HTMLSelectElement, options: [string, string][], value: string): void {
  const same = select.options.length === options.length && options.every(([v, label], i) => select.options[i].value === v && select.options[i].text === label);
  if (!same) {
    select.replaceChildren();
    addOptions(select, options);
  }
  select.value = value;
}
