/** Activation: wiring only. Every disposable is registered on the context. */
import * as vscode from 'vscode';
import { registerInspectSelection } from './commands/inspectSelection';
import { EngineClient } from './engine/worker/engineClient';
import { AttentionPanel, PANEL_VIEW_TYPE } from './panel/attentionPanel';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Attention Inspector');
  // The engine's worker thread starts on the first run, not at activation.
  let engine: EngineClient | undefined;
  const getEngine = () => (engine ??= new EngineClient(vscode.Uri.joinPath(context.extensionUri, 'dist', 'engineWorker.js').fsPath));
  context.subscriptions.push(
    log,
    { dispose: () => void engine?.dispose() },
    { dispose: () => AttentionPanel.disposeCurrent() },
    registerInspectSelection({ extensionUri: context.extensionUri, log, engine: getEngine }),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => AttentionPanel.revive(panel, context.extensionUri, log),
    }),
  );
}
