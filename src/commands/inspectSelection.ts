/**
 * "Attention: Inspect Selection": runs the configured model (in the engine worker) on the active
 * editor's selection and streams every layer into the attention panel as it is computed.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { BackendChoice } from '../engine/backends';
import { isEngineError } from '../engine/errors';
import type { ModelInfo } from '../engine/model';
import type { EngineClient } from '../engine/worker/engineClient';
import { AttentionPanel } from '../panel/attentionPanel';
import { failedMessage, finishedMessage, layerMessage, startedMessage } from '../report/runMessages';
import { CommandId } from './commandIds';

export interface InspectSelectionDeps {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.OutputChannel;
  /** The engine, started on first use. */
  engine(): Pick<EngineClient, 'inspect'>;
}

const BUILT_IN_MODELS = ['demo', 'demo-causal'];

export function registerInspectSelection(deps: InspectSelectionDeps): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.InspectSelection, () => inspectSelection(deps));
}

/** A relative model folder is looked up in the document's workspace folder; anything else goes to the engine as written. */
function modelSource(setting: string, document: vscode.TextDocument): string {
  if (BUILT_IN_MODELS.includes(setting) || path.isAbsolute(setting)) return setting;
  const folder = vscode.workspace.getWorkspaceFolder(document.uri) ?? vscode.workspace.workspaceFolders?.[0];
  const inWorkspace = folder && path.join(folder.uri.fsPath, setting);
  return inWorkspace && fs.existsSync(inWorkspace) ? inWorkspace : setting;
}

async function inspectSelection(deps: InspectSelectionDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showErrorMessage('Open a file and select the text to inspect, then run "Attention: Inspect Selection".');
    return;
  }
  const text = editor.document.getText(editor.selection);
  if (!text.trim()) {
    void vscode.window.showErrorMessage('Nothing is selected: select the text whose attention you want to see, then run "Attention: Inspect Selection" again.');
    return;
  }
  const config = vscode.workspace.getConfiguration('attentionInspector');
  const model = modelSource(config.get<string>('model', 'demo'), editor.document);
  const backend = config.get<BackendChoice>('backend', 'auto');
  const panel = AttentionPanel.createOrShow(deps.extensionUri, deps.log);
  const run = panel.beginRun();
  const started = Date.now();
  let info: ModelInfo | undefined;
  deps.log.appendLine(`run ${run.id}: ${model} on ${backend}, ${text.length} characters`);
  try {
    const result = await deps.engine().inspect(
      { model, backend, input: { text }, wants: { scores: true, headVectors: true } },
      {
        onStart: (s) => {
          info = s.model;
          run.post(startedMessage(run.id, s, { source: text }));
          deps.log.appendLine(`run ${run.id}: ${s.source.ids.length} tokens on ${s.backend.adapter}${s.backend.fallbackReason ? ` (${s.backend.fallbackReason})` : ''}`);
        },
        onEvent: (event) => {
          if (event.type === 'attention' && info) run.post(layerMessage(run.id, event, info));
        },
      },
      run.signal,
    );
    run.post(finishedMessage(run.id, result.timings));
    const t = result.timings;
    deps.log.appendLine(`run ${run.id}: tokenize ${t.tokenizeMs.toFixed(0)} ms, first layer ${t.firstLayerMs.toFixed(0)} ms, forward ${t.forwardMs.toFixed(0)} ms, total ${Date.now() - started} ms`);
  } catch (err) {
    if (run.signal.aborted) return; // replaced by a newer run (or the panel closed): nothing to report
    run.post(failedMessage(run.id, err));
    const message = isEngineError(err) ? err.message : `Attention Inspector failed: ${err instanceof Error ? err.message : String(err)}`;
    deps.log.appendLine(`run ${run.id}: ${message}`);
    void vscode.window.showErrorMessage(message);
  }
}
