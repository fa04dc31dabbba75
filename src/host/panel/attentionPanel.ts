/**
 * The attention panel's lifecycle (one panel: createOrShow / revive / dispose) and its side of the
 * protocol. The panel holds no run: it forwards the session's messages to the webview (nothing before
 * the webview's `ready`; every `ready`, a first load or a reload after the panel was hidden, gets the
 * run so far again, without weights), answers the webview's data requests from the session, saves
 * its exports, and reports its selection back to the session; `reveal` points it at a head.
 */
import * as vscode from 'vscode';
import { PROTOCOL_VERSION, type ExportRequest, type FromWebview, type Reveal, type ToWebview } from '../../protocol/messages';
import type { RunSession } from '../runs/runSession';
import { saveExport } from './exportFile';
import { panelHtml, panelOptions } from './panelHtml';

export const PANEL_VIEW_TYPE = 'attentionInspector.panel';

export class AttentionPanel implements vscode.Disposable {
  private static instance: AttentionPanel | undefined;

  /** The open panel, if any. */
  static get current(): AttentionPanel | undefined {
    return AttentionPanel.instance;
  }

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;

  static createOrShow(session: RunSession, extensionUri: vscode.Uri, log: vscode.OutputChannel): AttentionPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    if (AttentionPanel.instance) {
      AttentionPanel.instance.panel.reveal(column, true);
      return AttentionPanel.instance;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Attention', { viewColumn: column, preserveFocus: true }, panelOptions(extensionUri));
    return (AttentionPanel.instance = new AttentionPanel(panel, session, extensionUri, log));
  }

  /** After a window reload: the panel comes back empty (runs are not persisted); its view settings stay. */
  static revive(panel: vscode.WebviewPanel, session: RunSession, extensionUri: vscode.Uri, log: vscode.OutputChannel): void {
    AttentionPanel.instance?.dispose();
    panel.webview.options = panelOptions(extensionUri);
    AttentionPanel.instance = new AttentionPanel(panel, session, extensionUri, log);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly session: RunSession,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.OutputChannel,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = panelHtml(panel.webview, extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message)),
      session.onDidPost((message) => this.ready && this.post(message)),
    );
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
        for (const replayed of this.session.replay()) this.post(replayed);
        break;
      case 'data-request':
        this.session.answer(message.runId, message.query).then(
          (reply) => this.ready && this.post({ type: 'data-reply', requestId: message.requestId, runId: message.runId, reply }),
          (err: unknown) => {
            this.log.appendLine(`panel: the ${message.query.kind} data of run ${message.runId} failed: ${err instanceof Error ? err.stack : String(err)}`);
            if (this.ready) this.post({ type: 'data-reply', requestId: message.requestId, runId: message.runId });
          },
        );
        break;
      case 'export-request':
        this.export(message);
        break;
      case 'selection-changed': {
        const { type: _type, ...selection } = message;
        this.session.setSelection(selection);
        break;
      }
      case 'panel-shown':
        this.session.panelShown(message.runId, message.layers, message.viewReady);
        break;
      case 'run-action':
        this.session.chooseAction(message.runId, message.action);
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

  private export(request: ExportRequest): void {
    saveExport(request, this.session, this.extensionUri).then(
      (path) => this.post({ type: 'export-result', requestId: request.requestId, path }),
      (err: unknown) => {
        const error = `Could not save the ${request.format.toUpperCase()} file: ${err instanceof Error ? err.message : String(err)}`;
        this.log.appendLine(error);
        void vscode.window.showErrorMessage(error);
        this.post({ type: 'export-result', requestId: request.requestId, path: null, error });
      },
    );
  }

  dispose(): void {
    if (AttentionPanel.instance === this) AttentionPanel.instance = undefined;
    this.ready = false; // a run's late messages must not reach a disposed webview
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
