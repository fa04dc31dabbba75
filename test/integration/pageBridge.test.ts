import * as assert from 'assert';
import * as vscode from 'vscode';
import { askPage, pageBridgeAvailable } from './pageBridge';
import { closeAllEditors, showSelectedText } from './workbench';

// Checks the harness itself: a hover shown in the editor can be read back through the page bridge.
describe('Page bridge', () => {
  afterEach(closeAllEditors);

  it('reads the editor hover widget', async function () {
    if (!pageBridgeAvailable()) this.skip();
    const marker = 'page-bridge-hover-check';
    const provider = vscode.languages.registerHoverProvider({ language: 'plaintext' }, {
      provideHover: () => new vscode.Hover(new vscode.MarkdownString(`**${marker}**`)),
    });
    try {
      await showSelectedText('hover me');
      await vscode.commands.executeCommand('editor.action.showHover');
      const elements = await askPage({ kind: 'hover', read: [':scope'], screenshot: 'page-bridge-hover', timeoutMs: 15_000 });
      assert.ok(elements[':scope'].text.includes(marker), `hover text was: ${elements[':scope'].text}`);
    } finally {
      provider.dispose();
    }
  });
});
