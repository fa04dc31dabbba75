import * as assert from 'assert';
import * as vscode from 'vscode';
import { LLAMA, assertDone, expectedView, hoverMarkdown, hoverRows, hoverWithSelection, inspectorApi, positionOf, putCursor, runCommand, setSettings, viewLabel } from './editorHelpers';
import { askPage, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const TUTORIAL = '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。';

/** The hover's "open in panel" link: its command and decoded arguments. */
function revealLink(markdown: string): { command: string; args: unknown[] } {
  const match = /\]\(command:([\w.]+)\?([^)\s]+)\)/.exec(markdown);
  assert.ok(match, `no command link in: ${markdown}`);
  return { command: match[1], args: JSON.parse(decodeURIComponent(match[2])) as unknown[] };
}

describe('Hover: top-k attention of an inspected token', () => {
  afterEach(closeAllEditors);

  it('demo: the tokens "他" attends to and the tokens attending to it, as a table with a link to the panel (provider and visible widget)', async function () {
    const restore = await setSettings({ model: 'demo', 'hover.topK': 4, defaultAggregation: 'mean' });
    try {
      const api = await inspectorApi();
      const editor = await showSelectedText(TUTORIAL);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const position = positionOf(editor.document, '他');
      const { markdown, selection } = await hoverWithSelection(api, editor.document, position);
      const view = expectedView(selection, 8, 'mean');
      const label = viewLabel(view, 8);
      assert.ok(markdown.startsWith(`**“他” — ${label}**`), `heading for ${label}: ${markdown}`);
      assert.match(markdown, /\| Attends to \| Weight (\| Head )?\|/);
      assert.match(markdown, /\| Attended by \| Weight (\| Head )?\|/);
      const table = hoverRows(markdown);
      assert.strictEqual(table.length, 8, 'top 4 in each direction');
      for (const half of [table.slice(0, 4), table.slice(4)]) {
        assert.deepStrictEqual(half.map((r) => r.weight), [...half.map((r) => r.weight)].sort((a, b) => b - a), 'strongest first');
      }
      const link = revealLink(markdown);
      assert.strictEqual(link.command, 'attentionInspector.revealInPanel');
      assert.deepStrictEqual(link.args, [{ stack: 'self', layer: view.layer, ...(view.heads.length === 1 ? { head: view.heads[0] } : {}), token: 6 }]);
      assert.deepStrictEqual(await vscode.commands.executeCommand(link.command, ...link.args), link.args[0], 'the link reveals that layer in the panel');

      assert.strictEqual(await hoverMarkdown(editor.document, editor.document.positionAt(TUTORIAL.length)), '', 'no hover past the inspected text');
      skipWithoutPageBridge(this);
      await vscode.window.showTextDocument(editor.document, editor.viewColumn);
      putCursor(editor, position);
      const selectionShown = api.panelSelection();
      await vscode.commands.executeCommand('editor.action.showHover');
      const widget = await askPage({ kind: 'hover', read: [':scope', 'table', 'a'], screenshot: 'hover-demo-he', timeoutMs: 15_000 });
      const shown = api.panelSelection() === selectionShown ? viewLabel(expectedView(selectionShown, 8, 'mean'), 8) : 'layer 0';
      assert.ok(widget[':scope'].text.includes(`“他” — ${shown}`), widget[':scope'].text);
      assert.strictEqual(widget.table.count, 1, 'one table: the two directions side by side');
      assert.match(widget.table.text, /Attends to[\s\S]*Attended by/);
      assert.ok(widget.a.text.startsWith(`Open ${shown}`), widget.a.text);
    } finally {
      await restore();
    }
  });

  it('llama-stories260K, each head on its own: every listed token names the head it is strongest in', async () => {
    const restore = await setSettings({ model: LLAMA, defaultAggregation: 'none', 'hover.topK': 3 });
    try {
      const api = await inspectorApi();
      const editor = await showSelectedText('Once upon a time, there was a little girl named Lily.');
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const { markdown, selection } = await hoverWithSelection(api, editor.document, positionOf(editor.document, 'Lily', 1));
      const view = expectedView(selection, 8, 'none');
      assert.ok(markdown.startsWith(`**“␣Lily” — ${viewLabel(view, 8)}**`), markdown);
      const table = hoverRows(markdown);
      assert.strictEqual(table.length, 6);
      if (view.aggregate === 'none' && view.heads.length > 1) {
        for (const row of table) assert.ok(row.head !== undefined && view.heads.includes(row.head), `${row.token} names its head`);
      }
      assert.strictEqual((revealLink(markdown).args[0] as { token: number }).token, 14, '␣Lily is token 14 (after <s>)');
    } finally {
      await restore();
    }
  });

  it('a stale run is never shown as current: after an edit the hover says to re-run, without weights', async () => {
    const restore = await setSettings({ model: 'demo' });
    try {
      const editor = await showSelectedText(`intro line\n${TUTORIAL}`);
      editor.selection = new vscode.Selection(positionOf(editor.document, '那'), editor.document.positionAt(editor.document.getText().length));
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const at = positionOf(editor.document, '雨');
      assert.ok(hoverRows(await hoverMarkdown(editor.document, at)).length > 0);

      // An edit after the inspected text leaves it current; one before it moves every token.
      await editor.edit((e) => e.insert(editor.document.positionAt(editor.document.getText().length), ' more'));
      assert.ok(hoverRows(await hoverMarkdown(editor.document, at)).length > 0, 'still current after an edit behind the text');
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'x'));
      const stale = await hoverMarkdown(editor.document, positionOf(editor.document, '雨'));
      assert.match(stale, /Stale: the text changed since it was inspected/);
      assert.deepStrictEqual(hoverRows(stale), [], 'no weights on a stale run');
    } finally {
      await restore();
    }
  });
});
