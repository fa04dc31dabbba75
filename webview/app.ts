/**
 * The panel: receives run messages, keeps the run and the shared selection, and draws the chosen view.
 * A full redraw is coalesced into one animation frame (layers streaming in); a focus change (hover,
 * lock) takes the fast path synchronously. The root element's data-* attributes are the integration
 * tests' contract: data-state, data-token-count, data-layers-received.
 */
import { PROTOCOL_VERSION, type ExportFormat, type ToWebview } from '../src/protocol/messages';
import { AttentionRun } from '../src/view-model/attentionRun';
import { DEFAULT_SELECTION, preferencesOf, selectionForRun, unlock, type Selection, type ViewName } from '../src/view-model/selection';
import { ViewDataSource } from '../src/view-model/viewData';
import { h } from './dom';
import { exportView } from './export';
import { readTheme, watchTheme, type Theme } from './theme';
import { Toolbar } from './toolbar';
import type { Transport } from './transport';
import { ComputationView } from './views/computationView';
import { HeadView } from './views/headView';
import { MatrixView } from './views/matrixView';
import { ModelView } from './views/modelView';
import type { View, ViewContext } from './views/view';

export class App {
  private readonly run = new AttentionRun();
  private readonly data = new ViewDataSource();
  private selection: Selection;
  private theme: Theme = readTheme();
  private readonly views: Record<ViewName, View> = {
    head: new HeadView(), model: new ModelView(), matrix: new MatrixView(), computation: new ComputationView(), cross: new HeadView('cross'),
  };
  private readonly toolbar = new Toolbar((format) => void this.export(format));
  private readonly status = h('div', { class: 'status', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  private readonly live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
  private readonly viewHost = h('main', { id: 'views', role: 'tabpanel' });
  private frame = 0;
  /** One context for every view; its getters always read the current selection and theme. */
  private readonly ctx: ViewContext = this.context();

  constructor(private readonly root: HTMLElement, private readonly transport: Transport) {
    this.selection = { ...DEFAULT_SELECTION, ...transport.loadPreferences() };
    root.replaceChildren(this.toolbar.element, this.status, this.alert, this.viewHost, this.live);
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
      case 'run-finished':
      case 'run-failed': {
        const previousRun = this.run.id;
        if (!this.run.accept(message)) return; // a stale message from a replaced run
        if (message.type === 'run-started' || this.run.id !== previousRun) {
          const started = this.run.started;
          const stacks = started?.target ? (['encoder', 'decoder', 'cross'] as const) : (['self'] as const);
          this.selection = selectionForRun(this.selection, started?.model.numHeads ?? 0, stacks);
        }
        this.setState();
        this.scheduleRender();
        break;
      }
      case 'export-result':
        this.transport.settle(message);
        break;
      case 'reveal':
        // The editor hover's "open in panel": show that stack, layer and head.
        this.update((s) => ({ ...s, stack: message.stack, layer: message.layer, head: message.head ?? s.head }));
        break;
      default: {
        const unknown: never = message;
        this.transport.post({ type: 'webview-error', message: `Unknown message ${JSON.stringify(unknown)}` });
      }
    }
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
    const view = this.views[this.selection.view];
    if (this.viewHost.firstChild !== view.element) this.viewHost.replaceChildren(view.element);
    this.viewHost.setAttribute('aria-labelledby', `tab-${this.selection.view}`);
    view.render(ctx);
  }

  private setState(): void {
    const started = this.run.started;
    this.root.dataset.state = this.run.state;
    this.root.dataset.tokenCount = String(started?.source.tokens.length ?? 0);
    this.root.dataset.layersReceived = String(this.run.layersReceived);
    this.root.setAttribute('aria-busy', String(this.run.state === 'running'));
    const failure = this.run.failure;
    this.alert.hidden = !failure;
    this.alert.textContent = failure ? failure.message : '';
  }

  private renderStatus(): void {
    const started = this.run.started;
    if (!started) {
      this.status.textContent = this.run.state === 'error' ? '' : 'Select text in an editor and run “Attention: Inspect Selection”.';
      return;
    }
    const m = started.model, b = started.backend;
    const total = started.target ? m.numLayers * 3 : m.numLayers;
    const parts = [
      `${m.name} (${m.modelType}, ${m.numLayers} layers × ${m.numHeads} heads${m.numKvHeads !== m.numHeads ? `, ${m.numKvHeads} kv heads` : ''})`,
      `${started.source.tokens.length} tokens${started.target ? ` → ${started.target.tokens.length} target tokens` : ''}`,
      `${this.run.layersReceived} of ${total} layers`,
      `${b.used === 'webgpu' ? b.adapter : 'CPU'}${b.fallbackReason ? ` (${b.fallbackReason})` : ''}`,
    ];
    const finished = this.run.finished;
    if (finished) parts.push(`first layer ${finished.timings.firstLayerMs.toFixed(0)} ms, all ${finished.timings.forwardMs.toFixed(0)} ms`);
    if (m.untrained) parts.push('untrained weights: the mechanics, not language');
    this.status.textContent = parts.join(' · ');
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

function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a) as (keyof typeof a)[];
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
