/**
 * "Attention: Inspect Selection": runs the model on the active editor's selection and streams every
 * layer into the attention panel (see InspectionRunner). Returns the run's outcome.
 */
import * as vscode from 'vscode';
import type { InspectionRunner, RunOutcome } from '../runs/inspectionRunner';
import type { Notifier } from '../notify';
import { CommandId } from '../commandIds';

export function registerInspectSelection(runner: InspectionRunner, notifier: Notifier): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.InspectSelection, () => inspectSelection(runner, notifier));
}

/** The active editor with a non-blank primary selection, or a notice that says what to do. */
export function selectedEditor(notifier: Notifier, command: string): vscode.TextEditor | RunOutcome {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return { status: 'failed', notice: notifier.error(vscode.l10n.t('Open a file and select the text to inspect, then run "{0}".', command)) };
  }
  if (!editor.document.getText(editor.selection).trim()) {
    return { status: 'failed', notice: notifier.error(vscode.l10n.t('Nothing is selected: select the text whose attention you want to see, then run "{0}" again.', command)) };
  }
  return editor;
}

async function inspectSelection(runner: InspectionRunner, notifier: Notifier): Promise<RunOutcome> {
  const editor = selectedEditor(notifier, vscode.l10n.t('Attention: Inspect Selection'));
  if (!('document' in editor)) return editor;
  return runner.run({ document: editor.document, source: editor.selection });
}
