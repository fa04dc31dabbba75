// Helpers for driving the workbench from integration tests.
import * as vscode from 'vscode';

export const EXTENSION_ID = 'attention-inspector.attention-inspector';
export const INSPECT_SELECTION_COMMAND = 'attentionInspector.inspectSelection';
export const PANEL_VIEW_TYPE = 'attentionInspector.panel';

/** Opens `text` in a new untitled editor with all of it selected. */
export async function showSelectedText(text: string, language = 'plaintext'): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ content: text, language });
  const editor = await vscode.window.showTextDocument(document);
  editor.selection = new vscode.Selection(document.positionAt(0), document.positionAt(text.length));
  return editor;
}

/** Webview tabs report their view type with a workbench prefix (`mainThreadWebview-<viewType>`). */
export function openPanelTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(viewType));
}

/**
 * Resolves once a panel of `viewType` has a tab. The extension host learns about new tabs through an
 * event after the command that opened them returned, so call this before running that command.
 */
export function panelTabOpened(viewType: string): Promise<vscode.Tab> {
  return new Promise((resolve) => {
    const resolveIfOpen = (): void => {
      const [tab] = openPanelTabs(viewType);
      if (!tab) return;
      subscription.dispose();
      resolve(tab);
    };
    const subscription = vscode.window.tabGroups.onDidChangeTabs(resolveIfOpen);
    resolveIfOpen();
  });
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
