/**
 * Saves what the panel exports: pictures and JSON as the webview made them, and the standalone HTML
 * report built here from the host's copy of the run (the webview cannot read its own bundle).
 */
import * as vscode from 'vscode';
import type { ExportFormat, ExportRequest, ReplayMessage } from '../../protocol/messages';
import { reportHtml, loadReportAssets } from '../../report/reportHtml';
import type { AttentionRun } from '../../view-model/attentionRun';

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  html: { 'HTML report': ['html'] },
};

/**
 * Asks where to save and writes the file; resolves with its path, or null when the user cancels. An HTML
 * report replays `replay`: the run and, while comparing, its baseline.
 */
export async function saveExport(request: ExportRequest, run: AttentionRun, extensionUri: vscode.Uri, replay: readonly ReplayMessage[] = run.messages()): Promise<string | null> {
  const content = request.format === 'html'
    ? reportHtml(replay, loadReportAssets(extensionUri.fsPath), `Attention — ${run.started?.model.name ?? 'run'}`)
    : request.content;
  if (content === undefined) throw new Error('the panel sent nothing to save');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, request.fileName) : undefined,
    filters: FILTERS[request.format],
    title: `Save ${request.format.toUpperCase()}`,
  });
  if (!target) return null;
  await vscode.workspace.fs.writeFile(target, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  return target.fsPath;
}
