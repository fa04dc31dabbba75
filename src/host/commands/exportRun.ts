/**
 * "Attention: Export…": saves the panel's run from the host's copy — the standalone HTML report (the
 * panel with the run inlined, works offline in any browser) or the attention matrices of one stack as
 * JSON. Pictures of a view (PNG, SVG) come from the panel's own toolbar, which draws them.
 */
import * as vscode from 'vscode';
import type { Notice, Notifier } from '../notify';
import type { AttentionStack } from '../../protocol/messages';
import { matricesJson } from '../../view-model/exportJson';
import { CommandId } from '../commandIds';
import { writeRunReport } from '../runs/runExport';
import type { RunSession } from '../runs/runSession';

type Format = 'html' | 'json';

/** Skips the questions (tests): the format, the file, and for JSON the stack (default: the panel's). */
export interface ExportArgs {
  readonly format: Format;
  readonly path: string;
  readonly stack?: AttentionStack;
}

export type ExportOutcome =
  | { readonly status: 'saved'; readonly path: string; readonly notice: Notice }
  | { readonly status: 'cancelled' }
  | { readonly status: 'failed'; readonly notice: Notice };

export function registerExport(session: RunSession, extensionUri: vscode.Uri, notifier: Notifier): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.Export, (args?: ExportArgs) => exportRun(session, extensionUri, notifier, args));
}

async function exportRun(session: RunSession, extensionUri: vscode.Uri, notifier: Notifier, args: ExportArgs | undefined): Promise<ExportOutcome> {
  const run = session.run;
  if (!run.started || run.layersReceived === 0) {
    return { status: 'failed', notice: notifier.error(vscode.l10n.t('Nothing to export yet: inspect a selection first ("Attention: Inspect Selection").')) };
  }
  const stack = args?.stack ?? session.selection?.stack ?? run.stacks()[0];
  const format = args?.format ?? (await vscode.window.showQuickPick(
    [
      { format: 'html' as const, label: vscode.l10n.t('HTML report'), detail: vscode.l10n.t('The panel with this run inside: opens offline in any browser') },
      { format: 'json' as const, label: vscode.l10n.t('JSON'), detail: vscode.l10n.t('The attention matrices of the {0} stack, every layer and head, with the tokens', stack) },
    ],
    { title: vscode.l10n.t('Attention: Export'), placeHolder: vscode.l10n.t('PNG and SVG pictures of a view: use the panel\'s toolbar') },
  ))?.format;
  if (!format) return { status: 'cancelled' };
  const model = run.started.model.name;
  const baseName = `attention-${model.replace(/[^\w.-]+/g, '_')}.${format}`;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = args ? vscode.Uri.file(args.path) : await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, baseName) : undefined,
    filters: format === 'html' ? { [vscode.l10n.t('HTML report')]: ['html'] } : { JSON: ['json'] },
    title: vscode.l10n.t('Attention: Export'),
  });
  if (!target) return { status: 'cancelled' };
  try {
    if (format === 'html') await writeRunReport(session, target.fsPath, extensionUri.fsPath);
    else await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(matricesJson(run, stack)));
  } catch (err) {
    return { status: 'failed', notice: notifier.error(vscode.l10n.t('Could not save {0}: {1}', target.fsPath, err instanceof Error ? err.message : String(err))) };
  }
  return { status: 'saved', path: target.fsPath, notice: notifier.info(vscode.l10n.t('Saved {0}', target.fsPath)) };
}
