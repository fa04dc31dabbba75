/**
 * The panel: receives run messages, keeps the run and the shared selection, and draws the chosen view.
 * A full redraw is coalesced into one animation frame (layers streaming in); a focus change (hover,
 * lock) takes the fast path synchronously. Above the views: the generation stepper (generation runs)
 * and the comparison bar (while the host sends a baseline). Selection changes go to the host, once per
 * frame; the host's `reveal` points the panel at a layer, head and token. The root element's data-*
 * attributes are the integration tests' contract: data-state, data-token-count, data-layers-received,
 * data-loading (while the views wait for data),
 * data-generated, data-step and data-compare.
 */
import { PROTOCOL_VERSION, type AttentionStack, type Baseline, type ExportFormat, type SelectionChanged, type ToWebview } from '../src/protocol/messages';
import { AttentionRun } from '../src/view-model/attentionRun';
import { comparisonProblem } from '../src/view-model/diff';
import { isStepStack, stepRow } from '../src/view-model/generation';
import { DEFAULT_SELECTION, preferencesOf, revealIn, selectionForRun, selectionMessage, selectStep, unlock, type Selection, type ViewName } from '../src/view-model/selection';
import { backendSummary } from '../src/view-model/backendSummary';
import { displayTokens } from '../src/view-model/tokens';
import { DataClient } from './dataClient';
import { DiffBar } from './diffBar';
import { h } from './dom';
import { exportView } from './export';
import { SelectionSync } from './selectionSync';
import { Stepper } from './stepper';
import { readTheme, watchTheme, type Theme } from './theme';
import { Toolbar } from './toolbar';
import type { Transport } from './transport';
import { ComputationView } from './views/computationView';
import { HeadView } from './views/headView';
import { HeadsView } from './views/headsView';
import { LensView } from './views/lensView';
import { MatrixView } from './views/matrixView';
import { ModelView } from './views/modelView';
import { rolloutView } from './views/rolloutView';
import { StepsView } from './views/stepsView';
import { count, layerTotal, type View, type ViewContext } from './views/view';

export class App {
  private readonly run = new AttentionRun();
  /** Queries on their way show as data-loading on the root, until the frame that draws their replies. */
  private readonly data = new DataClient((runId, query) => this.transport.request(runId, query), () => this.scheduleRender(), (count) => {
    this.loading = count;
    if (count > 0) setData(this.root, 'loading', String(count));
    else this.scheduleRender();
  });
  private loading = 0;
  /** The baseline the host asked to compare the current run with. */
  private baseline: Baseline | null = null;
  private comparison = 0;
  private selection: Selection;
  private theme: Theme = readTheme();
  private readonly views: Record<ViewName, View> = {
    head: new HeadView(), model: new ModelView(), matrix: new MatrixView(), computation: new ComputationView(), cross: new HeadView('cross'), steps: new StepsView(),
    heads: new HeadsView(), rollout: rolloutView(), lens: new LensView(),
  };
  private readonly toolbar = new Toolbar((format) => void this.export(format));
  private readonly status = h('div', { class: 'status', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  private readonly stepper = new Stepper((step) => this.chooseStep(step));
  private readonly diffBar = new DiffBar();
  private readonly live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
  private readonly viewHost = h('main', { id: 'views', role: 'tabpanel' });
  private readonly sync = new SelectionSync((message) => this.transport.post(message), () => this.selectionSummary());
  private frame = 0;
  private lastShown = '';
  /** One context for every view; its getters always read the current selection and theme. */
  private readonly ctx: ViewContext = this.context();

  constructor(private readonly root: HTMLElement, private readonly transport: Transport) {
    this.selection = { ...DEFAULT_SELECTION, ...transport.loadPreferences() };
    root.replaceChildren(this.toolbar.element, this.status, this.alert, this.stepper.element, this.diffBar.element, this.viewHost, this.live);
    this.setState();
    transport.onMessage((message) => this.receive(message));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.selection.focus) this.update(unlock);
    });
    watchTheme(() => {
      this.theme = readTheme();
      this.scheduleRender();
    });
    this.render();
    transport.post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  }

  receive(message: ToWebview): void {
    switch (message.type) {
      case 'run-started':
      case 'layer':
      case 'generated-token':
      case 'run-finished':
      case 'run-failed': {
        const previousRun = this.run.id;
        if (!this.run.accept(message)) return; // a stale message from a replaced run
        if (message.type === 'run-started' || this.run.id !== previousRun) this.startRun();
        else if (message.type === 'generated-token' && this.selection.step === null) this.followNewestStep();
        this.setState();
        this.scheduleRender();
        break;
      }
      case 'baseline':
        if (message.runId !== this.run.id) return; // meant for another run
        this.baseline = message.baseline;
        this.comparison++;
        this.data.reset(); // the differences in the replies change
        this.data.comparing = !!message.baseline;
        this.selection = { ...this.selection, compare: true };
        this.scheduleRender();
        break;
      case 'export-result':
      case 'data-reply':
        this.transport.settle(message);
        break;
      case 'reveal':
        // The editor hover's "open in panel": that stack's layer, the head alone, the token locked.
        this.update((s) => revealIn(s, message, message.token === undefined ? null : this.displayRow(s, message.stack, message.token)));
        break;
      default: {
        const unknown: never = message;
        this.transport.post({ type: 'webview-error', message: `Unknown message ${JSON.stringify(unknown)}` });
      }
    }
  }

  /** A new run: a fresh selection (a generation opens on its stepper), no baseline until the host sends one. */
  private startRun(): void {
    const started = this.run.started;
    const stacks = started?.target ? (['encoder', 'decoder', 'cross'] as const) : (['self'] as const);
    const generation = !!started?.generation;
    const preferred = generation && started?.model.kind === 'encoder-decoder' ? 'decoder' : undefined;
    this.selection = selectionForRun(this.selection, started?.model.numHeads ?? 0, stacks, generation, preferred);
    if (generation) this.selection = { ...this.selection, view: 'steps' };
    this.baseline = null;
    this.comparison++;
    this.data.reset();
    this.data.comparing = false;
    this.sync.reset();
    this.sync.schedule();
  }

  /** Following the newest step: each generated token moves the locked focus to its step's query row. */
  private followNewestStep(): void {
    this.selection = selectStep(this.selection, null, this.stepFocusRow(this.selection, this.run.generated().length - 1));
    this.sync.schedule();
  }

  private chooseStep(step: number): void {
    const count = this.run.generated().length;
    if (count === 0) return;
    const chosen = Math.max(0, Math.min(count - 1, step));
    this.update((s) => selectStep(s, chosen, this.stepFocusRow(s, chosen)));
  }

  /** The display row of step `step`'s query in the shown stack, or null where the stack has no steps. */
  private stepFocusRow(s: Selection, step: number): number | null {
    const started = this.run.started;
    const stack = s.view === 'cross' ? 'cross' : s.stack;
    if (!started?.generation || step < 0 || !isStepStack(started.model.kind, stack)) return null;
    return this.displayRow(s, stack, stepRow(started.model.kind, started.source.tokens.length, step));
  }

  /** The display token that holds query model token `token` of `stack`, or null (hidden, or not there). */
  private displayRow(s: Selection, stack: AttentionStack, token: number): number | null {
    const tokens = this.run.queryTokens(stack);
    const row = tokens && token < tokens.tokens.length ? displayTokens(tokens, s).displayOf[token] : -1;
    return row >= 0 ? row : null;
  }

  private selectionSummary(): SelectionChanged | undefined {
    const s = this.selection;
    if (!this.run.started) return undefined;
    const stack = s.view === 'cross' ? 'cross' : s.stack;
    const tokens = s.focus && (s.focus.side === 'query' ? this.run.queryTokens(stack) : this.run.keyTokens(stack));
    const group = s.focus && tokens ? displayTokens(tokens, s).groups[s.focus.index] : undefined;
    return selectionMessage(s, group?.[0] ?? null);
  }

  private context(): ViewContext {
    const app = this;
    return {
      run: this.run, data: this.data,
      get selection() {
        return app.selection;
      },
      get theme() {
        return app.theme;
      },
      get comparison() {
        return app.baseline && app.selection.compare ? app.comparison : 0;
      },
      diff: (data, selection = this.selection) => (this.baseline && selection.compare ? this.data.diff(data) : undefined),
      update: (change) => this.update(change),
      announce: (text) => (this.live.textContent = text),
    };
  }

  /** Applies a selection change; focus-only changes redraw synchronously on the fast path. */
  private update(change: (s: Selection) => Selection): void {
    const previous = this.selection;
    const next = change(previous);
    if (next === previous) return;
    this.selection = next;
    this.sync.schedule();
    const { focus: _f, locked: _l, ...rest } = next;
    const { focus: _pf, locked: _pl, ...previousRest } = previous;
    if (shallowEqual(rest, previousRest)) {
      this.views[next.view].renderFocus(this.ctx);
    } else {
      this.transport.storePreferences(preferencesOf(next));
      this.render();
    }
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const ctx = this.ctx;
    this.toolbar.sync(ctx);
    this.renderStatus();
    this.stepper.sync(ctx);
    setData(this.root, 'step', this.stepper.element.dataset.step);
    this.syncComparison();
    const view = this.views[this.selection.view];
    if (this.viewHost.firstChild !== view.element) this.viewHost.replaceChildren(view.element);
    this.viewHost.setAttribute('aria-labelledby', `tab-${this.selection.view}`);
    view.render(ctx);
    this.reportShown(!view.element.querySelector('.placeholder'));
    if (!this.loading) setData(this.root, 'loading', undefined);
  }

  /** Tells the host what is on screen once it changes (it times how fast layers reach the panel). */
  private reportShown(viewReady: boolean): void {
    const runId = this.run.id, layers = this.run.layersReceived;
    const shown = `${runId}|${layers}|${viewReady}`;
    if (!this.run.started || shown === this.lastShown) return;
    this.lastShown = shown;
    this.transport.post({ type: 'panel-shown', runId, layers, viewReady });
  }

  private syncComparison(): void {
    const s = this.selection, started = this.run.started;
    const stack = s.view === 'cross' ? 'cross' : s.stack;
    const problem = this.baseline && started ? comparisonProblem(started.model, this.baseline, stack) : undefined;
    const data = this.baseline && !problem ? this.data.get(this.run, s, stack) : undefined;
    const state = this.diffBar.sync(this.ctx, this.baseline, problem, data);
    setData(this.root, 'compare', state === 'none' ? undefined : state);
  }

  private setState(): void {
    const started = this.run.started;
    this.root.dataset.state = this.run.state;
    this.root.dataset.tokenCount = String(started?.source.tokens.length ?? 0);
    this.root.dataset.layersReceived = String(this.run.layersReceived);
    setData(this.root, 'generated', this.run.started?.generation ? String(this.run.generated().length) : undefined);
    this.root.setAttribute('aria-busy', String(this.run.state === 'running'));
    this.syncAlert();
  }

  /** The run's failure above the views, with the host's offers as buttons (Truncate to N tokens, Open Settings). */
  private syncAlert(): void {
    const failure = this.run.failure;
    this.alert.hidden = !failure;
    if (!failure) return this.alert.replaceChildren();
    const runId = failure.runId;
    const buttons = (failure.actions ?? []).map((action) => {
      const button = h('button', { class: 'alert-action', 'data-action': action.id }, action.title);
      button.addEventListener('click', () => this.transport.post({ type: 'run-action', runId, action: action.id }));
      return button;
    });
    this.alert.replaceChildren(h('span', {}, failure.message), ...buttons);
  }

  private renderStatus(): void {
    const run = this.run, started = run.started;
    if (!started) {
      this.status.textContent = run.state === 'error' ? '' : 'Select text in an editor and run “Attention: Inspect Selection”.';
      return;
    }
    const m = started.model;
    const backend = backendSummary(started.backend);
    const total = layerTotal(run);
    const parts = [
      `${m.name} (${m.modelType}, ${count(m.numLayers, 'layer')} × ${count(m.numHeads, 'head')}${m.numKvHeads !== m.numHeads ? `, ${m.numKvHeads} kv heads` : ''})`,
      started.generation
        ? `${count(started.source.tokens.length, 'token')} + ${run.generated().length} generated (up to ${started.generation.maxNewTokens})`
        : `${count(started.source.tokens.length, 'token')}${started.target ? ` → ${count(started.target.tokens.length, 'target token')}` : ''}`,
      run.state === 'running' ? `computing: ${run.layersReceived} of ${count(total, 'layer')}` : run.state === 'error' ? `stopped after ${run.layersReceived} of ${count(total, 'layer')}` : count(total, 'layer'),
      backend.label,
    ];
    const finished = run.finished;
    if (finished) parts.push(`first layer ${finished.timings.firstLayerMs.toFixed(0)} ms, all ${finished.timings.forwardMs.toFixed(0)} ms`);
    if (m.untrained) parts.push('untrained weights: the mechanics, not language');
    if (started.source.tokens.length > m.maxPositions) parts.push(`past its ${m.maxPositions}-token training context`);
    this.status.textContent = parts.join(' · ');
    // The long story (adapter, self-benchmark times, why not WebGPU) once, on hover.
    this.status.title = `${parts.join('\n')}\n${backend.detail}`;
  }

  private async export(format: ExportFormat): Promise<void> {
    try {
      const path = await exportView(format, this.views[this.selection.view], this.ctx, this.transport);
      this.live.textContent = path ? `Saved ${path}` : 'Export cancelled.';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.live.textContent = `Export failed: ${message}`;
      this.transport.post({ type: 'webview-error', message: `Export failed: ${message}` });
    }
  }
}

/** Sets a data-* attribute, or removes it (undefined): runs without steps or a baseline keep the plain contract. */
function setData(element: HTMLElement, name: string, value: string | undefined): void {
  if (value === undefined) delete element.dataset[name];
  else element.dataset[name] = value;
}

function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a) as (keyof typeof a)[];
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
