/**
 * Saves what the panel exports: pictures as the webview drew them, and the HTML report and JSON
 * matrices built here from the session's run (the webview holds only what it draws).
 */
import * as vscode from 'vscode';
import type { ExportFormat, ExportRequest } from '../../protocol/messages';
import { matricesJson } from '../../view-model/exportJson';
import { writeRunReport } from '../runs/runExport';
import type { RunSession } from '../runs/runSession';

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  html: { 'HTML report': ['html'] },
};

/** Asks where to save and writes the file; resolves with its path, or null when the user cancels. */
export async function saveExport(request: ExportRequest, session: RunSession, extensionUri: vscode.Uri): Promise<string | null> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, request.fileName) : undefined,
    filters: FILTERS[request.format],
    title: `Save ${request.format.toUpperCase()}`,
  });
  if (!target) return null;
  if (request.format === 'html') {
    await writeRunReport(session, target.fsPath, extensionUri.fsPath);
    return target.fsPath;
  }
  const stack = request.stack ?? session.run.stacks()[0];
  const content = request.format === 'json' ? matricesJson(session.run, stack) : request.content;
  if (content === undefined) throw new Error('the panel sent nothing to save');
  await vscode.workspace.fs.writeFile(target, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  return target.fsPath;
}
