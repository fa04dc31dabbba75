/**
 * The run the editor shows, owned by one object: its messages (what the panel is told), its weights
 * (a RunStore on disk), the pinned baseline and the panel's selection. The panel draws from it (it
 * answers the webview's data queries), and hovers, the heat overlay, export and the baseline commands
 * read it; runs write to it through the SessionRun that `begin` hands out.
 */
import * as vscode from 'vscode';
import type { AttentionEvent } from '../../engine/model';
import type { DataQuery, DataReply } from '../../protocol/data';
import type { AttentionStack, Baseline, LayerMessage, ReplayMessage, RunMessage } from '../../protocol/messages';
import type { ModelInfo } from '../../protocol/run';
import { RunStore } from '../../store/runStore';
import { layerMessage } from '../../store/runMessages';
import type { PanelView } from '../../view-model/attentionLookup';
import { AttentionRun } from '../../view-model/attentionRun';
import { sinkPositions } from '../../view-model/analysisSource';
import { DataService, type StepData } from '../../view-model/dataService';
import { AnalysisStore, type ExtraPasses } from '../../store/analysisStore';
import { baselineOf } from '../../view-model/diff';
import { DeliveryLog, type Delivery } from './deliveryLog';


/** One run as a command streams it: messages carry `id`; `signal` aborts when a newer run starts. */
export interface SessionRun {
  readonly id: number;
  readonly signal: AbortSignal;
  post(message: RunMessage): void;
  /** Keeps a layer's weights and tells the panel it is there. */
  layer(event: AttentionEvent, model: ModelInfo): void;
  /** Where the step-by-step view's exact vectors come from (the engine, run again on demand). */
  explainWith(stepData: StepData): void;
  /** Where induction and the logit lens come from (the engine, run again on demand). */
  analyzeWith(passes: ExtraPasses): void;
}

interface Held {
  readonly run: AttentionRun;
  readonly store: RunStore;
  readonly service: DataService;
  readonly analysis: AnalysisStore;
}

export class RunSession implements vscode.Disposable {
  private held: Held = this.fresh();
  private pinned: Held | undefined;
  private comparingNow = false;
  private nextRunId = 1;
  private controller: AbortController | undefined;
  private currentSelection: PanelView | undefined;
  private readonly deliveryLog = new DeliveryLog();
  private readonly posted = new vscode.EventEmitter<ReplayMessage>();
  private readonly selectionChanged = new vscode.EventEmitter<PanelView>();
  private readonly actionChosen = new vscode.EventEmitter<{ readonly runId: number; readonly action: string }>();
  /** Fires when the user picks one of a failed run's offers in the panel (Truncate to N tokens). */
  readonly onDidChooseAction = this.actionChosen.event;
  /** Fires with every message the panel should get (run messages, and the baseline to compare with). */
  readonly onDidPost = this.posted.event;
  /** Fires when the panel reports a new selection. */
  readonly onDidChangeSelection = this.selectionChanged.event;

  /** The newest run (shapes, tokens, state; weights through layerData). */
  get run(): AttentionRun {
    return this.held.run;
  }

  /** The panel's last reported selection; undefined until it reports one for the current run. */
  get selection(): PanelView | undefined {
    return this.currentSelection;
  }

  setSelection(selection: PanelView): void {
    this.currentSelection = selection;
    this.selectionChanged.fire(selection);
  }

  /** Starts a run: the previous one is aborted, its weights dropped (unless pinned), its late messages ignored. */
  begin(): SessionRun {
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const previous = this.held;
    this.held = this.fresh();
    if (previous !== this.pinned) previous.store.dispose();
    const held = this.held;
    const id = this.nextRunId++;
    this.currentSelection = undefined; // it named another run's tokens
    this.deliveryLog.begin(id);
    const post = (message: RunMessage) => {
      if (held !== this.held || !held.run.accept(message)) return;
      if (message.type === 'run-finished') this.deliveryLog.engineFinished();
      this.posted.fire(message);
      // A comparison goes on with every new run until it is switched off.
      if (message.type === 'run-started' && this.comparingNow) this.posted.fire(this.baselineMessage());
    };
    return {
      id, signal: controller.signal, post,
      layer: (event, model) => {
        if (held !== this.held || controller.signal.aborted) return;
        const message: LayerMessage = layerMessage(id, event, model);
        held.store.write(message, event.probs, event.valueNorms, event.packed);
        if (message.step === undefined || message.step === 0) this.deliveryLog.engineLayer();
        post(message);
      },
      explainWith: (stepData) => {
        if (held === this.held) held.service.stepData = stepData;
      },
      analyzeWith: (passes) => {
        held.analysis.passes = passes;
      },
    };
  }

  /** The current run's head scores, sinks, rollout and extra passes (what the report of it carries, too). */
  get analysis(): AnalysisStore {
    return this.held.analysis;
  }

  /** The sink positions of a stack of the current run, for hovers and the overlay. */
  sinkPositions(stack: AttentionStack): number[] {
    return sinkPositions(this.held.analysis, stack);
  }

  /** The panel's report of what it shows (see PanelShown). */
  panelShown(runId: number, layers: number, viewReady: boolean): void {
    this.deliveryLog.panelShown(runId, layers, viewReady);
  }

  /** How fast the current run reached the panel. */
  delivery(): Delivery {
    return this.deliveryLog.snapshot();
  }

  /** The panel's choice of a failed run's action; ignored unless that run is still the current one. */
  chooseAction(runId: number, action: string): void {
    if (runId === this.held.run.id) this.actionChosen.fire({ runId, action });
  }

  /** The panel's data query about run `runId`; undefined when that run is gone or its data not there (yet). */
  answer(runId: number, query: DataQuery): Promise<DataReply | undefined> {
    if (runId !== this.held.run.id) return Promise.resolve(undefined);
    return this.held.service.answer(query);
  }

  /** The run so far and, while comparing, its baseline: what a reloaded webview is sent again. */
  replay(): ReplayMessage[] {
    const messages: ReplayMessage[] = this.held.run.messages();
    return this.comparingNow && this.held.run.started ? [...messages, this.baselineMessage()] : messages;
  }

  /** Pins the current run as the baseline; false when there is no run to pin. */
  pin(): boolean {
    if (!this.held.run.started) return false;
    if (this.pinned && this.pinned !== this.held) this.pinned.store.dispose();
    this.pinned = this.held;
    return true;
  }

  get baseline(): Baseline | undefined {
    return this.pinned && baselineOf(this.pinned.run);
  }

  /** The pinned run itself, with its weights. */
  get pinnedRun(): AttentionRun | undefined {
    return this.pinned?.run;
  }

  get comparing(): boolean {
    return this.comparingNow;
  }

  /** Compares the current run, and every later one, with the pinned baseline (or stops). */
  compare(on: boolean): void {
    this.comparingNow = on && !!this.pinned;
    this.held.service.baseline = this.comparingNow ? this.pinned!.run : undefined;
    if (this.held.run.started) this.posted.fire(this.baselineMessage());
  }

  private baselineMessage(): ReplayMessage {
    this.held.service.baseline = this.comparingNow ? this.pinned?.run : undefined;
    return { type: 'baseline', runId: this.held.run.id, baseline: (this.comparingNow && this.baseline) || null };
  }

  private fresh(): Held {
    const store = new RunStore();
    const run = new AttentionRun(store);
    const service = new DataService(run);
    const analysis = new AnalysisStore(run);
    service.analysis = analysis;
    return { run, store, service, analysis };
  }

  dispose(): void {
    this.controller?.abort();
    this.held.store.dispose();
    this.pinned?.store.dispose();
    this.posted.dispose();
    this.selectionChanged.dispose();
    this.actionChosen.dispose();
  }
}
