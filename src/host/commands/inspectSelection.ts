/**
 * "Attention: Inspect Selection": runs the model on the active editor's selection and streams every
 * layer into the attention panel (see InspectionRunner). Returns the run's outcome. With nothing
 * selected (Ctrl+Alt+A with a bare cursor) it inspects the cursor's line and says so: a line is the
 * text a quick look most often means, and silence left users wondering whether the key worked.
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
  const command = vscode.l10n.t('Attention: Inspect Selection');
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.document.getText(editor.selection).trim()) return inspectLine(runner, notifier, editor, command);
  const selected = selectedEditor(notifier, command);
  if (!('document' in selected)) return selected;
  return runner.run({ document: selected.document, source: selected.selection });
}

/** No selection: the cursor's line, trimmed, selected in the editor so the user sees what ran. */
async function inspectLine(runner: InspectionRunner, notifier: Notifier, editor: vscode.TextEditor, command: string): Promise<RunOutcome> {
  const line = editor.document.lineAt(editor.selection.active.line);
  if (line.isEmptyOrWhitespace) {
    return { status: 'failed', notice: notifier.error(vscode.l10n.t('Nothing is selected and line {0} is blank: select the text whose attention you want to see, then run "{1}" again.', line.lineNumber + 1, command)) };
  }
  const start = line.range.start.translate(0, line.firstNonWhitespaceCharacterIndex);
  const end = line.range.start.translate(0, line.text.trimEnd().length);
  editor.selection = new vscode.Selection(start, end);
  const notice = notifier.info(vscode.l10n.t('Nothing was selected, so line {0} is inspected. Select text to inspect exactly that.', line.lineNumber + 1));
  const outcome = await runner.run({ document: editor.document, source: new vscode.Range(start, end) });
  return { ...outcome, notice: outcome.notice ?? notice };
}
