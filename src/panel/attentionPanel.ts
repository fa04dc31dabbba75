/**
 * The attention panel's lifecycle (one panel: createOrShow / revive / dispose) and its side of the
 * protocol. The host keeps the newest run (an AttentionRun, as the webview does): nothing is posted
 * before the webview's `ready`, and every `ready` (a first load, or a reload after the panel was hidden)
 * replays the run so far. The same store answers exports and, later, hovers.
 */
import * as vscode from 'vscode';
import { PROTOCOL_VERSION, type FromWebview, type RunMessage, type ToWebview } from '../protocol/messages';
import { AttentionRun } from '../view-model/attentionRun';
import { saveExport } from './exportFile';
import { panelHtml, panelOptions } from './panelHtml';

export const PANEL_VIEW_TYPE = 'attentionInspector.panel';

/** One run as the command streams it: messages carry `id`; `signal` aborts when a newer run starts. */
export interface PanelRun {
  readonly id: number;
  readonly signal: AbortSignal;
  post(message: RunMessage): void;
}

export class AttentionPanel implements vscode.Disposable {
  private static current: AttentionPanel | undefined;

  private readonly run = new AttentionRun();
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private nextRunId = 1;
  private controller: AbortController | undefined;

  static createOrShow(extensionUri: vscode.Uri, log: vscode.OutputChannel): AttentionPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    if (AttentionPanel.current) {
      AttentionPanel.current.panel.reveal(column, true);
      return AttentionPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Attention', { viewColumn: column, preserveFocus: true }, panelOptions(extensionUri));
    return (AttentionPanel.current = new AttentionPanel(panel, extensionUri, log));
  }

  /** After a window reload: the panel comes back empty (runs are not persisted); its view settings stay. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, log: vscode.OutputChannel): void {
    AttentionPanel.disposeCurrent();
    panel.webview.options = panelOptions(extensionUri);
    AttentionPanel.current = new AttentionPanel(panel, extensionUri, log);
  }

  static disposeCurrent(): void {
    AttentionPanel.current?.dispose();
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
        if (this.run.accept(message) && this.ready) this.post(message);
      },
    };
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
        for (const runMessage of this.run.messages()) this.post(runMessage);
        break;
      case 'export-request':
        void saveExport(message, this.run, this.extensionUri).then(
          (path) => this.post({ type: 'export-result', requestId: message.requestId, path }),
          (err: unknown) => {
            const error = `Could not save the ${message.format.toUpperCase()} file: ${err instanceof Error ? err.message : String(err)}`;
            this.log.appendLine(error);
            void vscode.window.showErrorMessage(error);
            this.post({ type: 'export-result', requestId: message.requestId, path: null, error });
          },
        );
        break;
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
    if (AttentionPanel.current === this) AttentionPanel.current = undefined;
    this.ready = false; // a run's late messages must not reach a disposed webview
    this.controller?.abort();
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
