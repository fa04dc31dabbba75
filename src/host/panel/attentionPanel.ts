/**
 * The attention panel's lifecycle (one panel: createOrShow / revive / dispose) and its side of the
 * protocol. The host keeps the newest run (an AttentionRun, as the webview does): nothing is posted
 * before the webview's `ready`, and every `ready` (a first load, or a reload after the panel was hidden)
 * replays the run so far. The same store answers exports and the editor's hovers and heat overlay,
 * which follow the panel's selection (`selection-changed`); `reveal` points the panel at a head.
 */
import * as vscode from 'vscode';
import { PROTOCOL_VERSION, type Baseline, type FromWebview, type ReplayMessage, type Reveal, type RunMessage, type SelectionChanged, type ToWebview } from '../../protocol/messages';
import { AttentionRun } from '../../view-model/attentionRun';
import { saveExport } from './exportFile';
import { panelHtml, panelOptions } from './panelHtml';

export const PANEL_VIEW_TYPE = 'attentionInspector.panel';

/** One run as the command streams it: messages carry `id`; `signal` aborts when a newer run starts. */
export interface PanelRun {
  readonly id: number;
  readonly signal: AbortSignal;
  post(message: RunMessage): void;
}

/** What the panel shows, as its webview last reported it (without the message's `type`). */
export type PanelSelection = Omit<SelectionChanged, 'type'>;

export class AttentionPanel implements vscode.Disposable {
  private static instance: AttentionPanel | undefined;
  private static readonly currentChanged = new vscode.EventEmitter<AttentionPanel | undefined>();
  /** Fires when a panel opens or closes. */
  static readonly onDidChangeCurrent = AttentionPanel.currentChanged.event;

  /** The open panel, if any. */
  static get current(): AttentionPanel | undefined {
    return AttentionPanel.instance;
  }

  private static setCurrent(panel: AttentionPanel | undefined): AttentionPanel | undefined {
    AttentionPanel.instance = panel;
    AttentionPanel.currentChanged.fire(panel);
    return panel;
  }

  /** The newest run, as the webview has it: what hovers and the overlay read. */
  readonly run = new AttentionRun();
  private currentSelection: PanelSelection | undefined;
  private readonly selectionChanged = new vscode.EventEmitter<PanelSelection>();
  /** Fires when the webview reports a new selection. */
  readonly onDidChangeSelection = this.selectionChanged.event;
  private readonly disposables: vscode.Disposable[] = [this.selectionChanged];
  private ready = false;
  private comparison: Baseline | null = null;
  private nextRunId = 1;
  private controller: AbortController | undefined;

  static createOrShow(extensionUri: vscode.Uri, log: vscode.OutputChannel): AttentionPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    if (AttentionPanel.instance) {
      AttentionPanel.instance.panel.reveal(column, true);
      return AttentionPanel.instance;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Attention', { viewColumn: column, preserveFocus: true }, panelOptions(extensionUri));
    return AttentionPanel.setCurrent(new AttentionPanel(panel, extensionUri, log))!;
  }

  /** After a window reload: the panel comes back empty (runs are not persisted); its view settings stay. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, log: vscode.OutputChannel): void {
    AttentionPanel.disposeCurrent();
    panel.webview.options = panelOptions(extensionUri);
    AttentionPanel.setCurrent(new AttentionPanel(panel, extensionUri, log));
  }

  static disposeCurrent(): void {
    AttentionPanel.instance?.dispose();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = panelHtml(panel.webview, extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message)),
    );
  }

  /** Starts a run: the previous one is aborted and its late messages are dropped (by run id). */
  beginRun(): PanelRun {
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const id = this.nextRunId++;
    return {
      id, signal: controller.signal,
      post: (message) => {
        if (message.type === 'run-started') this.currentSelection = undefined; // the old one named another run's tokens
        if (!this.run.accept(message) || !this.ready) return;
        this.post(message);
        // A comparison goes on with every new run until it is switched off.
        if (message.type === 'run-started' && this.comparison) this.post(this.baselineMessage());
      },
    };
  }

  /** Whether the panel's runs are compared with a baseline ("Attention: Compare with Baseline"). */
  get comparing(): boolean {
    return this.comparison !== null;
  }

  /** Compares the current run, and every later one, with `baseline`; null stops comparing. */
  compareWith(baseline: Baseline | null): void {
    this.comparison = baseline;
    if (this.ready && this.run.started) this.post(this.baselineMessage());
  }

  private baselineMessage(): ReplayMessage {
    return { type: 'baseline', runId: this.run.id, baseline: this.comparison };
  }

  /** The run so far and, while comparing, its baseline: what a reloaded webview or a report replays. */
  replayMessages(): ReplayMessage[] {
    const messages: ReplayMessage[] = this.run.messages();
    return this.comparison && this.run.started ? [...messages, this.baselineMessage()] : messages;
  }

  /** The webview's last reported selection; undefined until it reports one for the current run. */
  get selection(): PanelSelection | undefined {
    return this.currentSelection;
  }

  /** Shows the panel and points it at a layer (and head, and token) of a stack. */
  reveal(target: Omit<Reveal, 'type'>): void {
    this.panel.reveal(undefined, true);
    if (this.ready) this.post({ type: 'reveal', ...target });
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private receive(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.ready = false;
          const text = `The attention panel speaks protocol ${message.protocolVersion}, the extension ${PROTOCOL_VERSION}. Run "Developer: Reload Window" to load the new panel.`;
          this.log.appendLine(text);
          void vscode.window.showErrorMessage(text);
          return;
        }
        this.ready = true;
        for (const replayed of this.replayMessages()) this.post(replayed);
        break;
      case 'export-request':
        void saveExport(message, this.run, this.extensionUri, this.replayMessages()).then(
          (path) => this.post({ type: 'export-result', requestId: message.requestId, path }),
          (err: unknown) => {
            const error = `Could not save the ${message.format.toUpperCase()} file: ${err instanceof Error ? err.message : String(err)}`;
            this.log.appendLine(error);
            void vscode.window.showErrorMessage(error);
            this.post({ type: 'export-result', requestId: message.requestId, path: null, error });
          },
        );
        break;
      case 'selection-changed': {
        const { type: _type, ...selection } = message;
        this.currentSelection = selection;
        this.selectionChanged.fire(selection);
        break;
      }
      case 'webview-error':
        this.log.appendLine(`panel: ${message.message}`);
        break;
      default: {
        const unknown: never = message;
        this.log.appendLine(`panel: unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  dispose(): void {
    if (AttentionPanel.instance === this) AttentionPanel.setCurrent(undefined);
    this.ready = false; // a run's late messages must not reach a disposed webview
    this.controller?.abort();
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
