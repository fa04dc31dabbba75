import * as assert from 'assert';
import * as vscode from 'vscode';
import { assertDone, hoverRows, hoverWithSelection, inspectorApi, positionOf, putCursor, runCommand, setSettings, until, viewLabel } from './editorHelpers';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const TOGGLE = 'attentionInspector.toggleHeatOverlay';
const SENTENCE = "The animal didn't cross the street because it was too tired";

describe('Heat overlay: the focused token\'s attention painted on the text', () => {
  afterEach(async () => {
    const api = await inspectorApi();
    if (api.overlay().enabled) await vscode.commands.executeCommand(TOGGLE);
    await closeAllEditors();
  });

  it('paints the cursor token\'s row in levels, strongest where the hover\'s top key is; follows the cursor; clears on toggle', async () => {
    const restore = await setSettings({ model: 'demo', 'hover.topK': 1, defaultAggregation: 'mean' });
    try {
      const api = await inspectorApi();
      const editor = await showSelectedText(SENTENCE);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const it = positionOf(editor.document, ' it ', 1);
      putCursor(editor, it);
      assert.strictEqual(await vscode.commands.executeCommand(TOGGLE), true);
      const state = api.overlay();
      assert.strictEqual(state.enabled, true);
      assert.deepStrictEqual(state.focus && { side: state.focus.side, stack: state.focus.stack, from: state.focus.from }, { side: 'query', stack: 'self', from: 'editor' });
      const painted = state.painted;
      assert.ok(painted && painted.uri === editor.document.uri.toString(), 'painted on the inspected document');
      assert.ok(painted.spans.length >= 2, `${painted.spans.length} spans`);
      for (const span of painted.spans) {
        assert.ok(span.level >= 1 && span.level <= 8);
        assert.ok(span.start >= 0 && span.end <= SENTENCE.length, 'inside the inspected text');
      }
      assert.ok(painted.spans.some((s) => s.level === 8), 'the strongest key is painted at full intensity');
      // The overlay and the hover agree on the strongest key when they read the same view (the panel
      // may report its selection in between: then the overlay repaints, and both are read again).
      for (let attempt = 1; ; attempt++) {
        const { spans, view } = api.overlay().painted!;
        const { markdown } = await hoverWithSelection(api, editor.document, it);
        const sameView = markdown.startsWith(`**“it” — ${viewLabel(view, 8)}**`);
        if (!sameView && attempt < 3) continue;
        assert.ok(sameView, `the overlay read ${viewLabel(view, 8)}, the hover: ${markdown.split('\n')[0]}`);
        const strongest = spans.find((s) => s.level === 8)!;
        const top = hoverRows(markdown)[0].token.replace(/␣/g, ' ').replace(/\\(.)/g, '$1');
        assert.strictEqual(SENTENCE.slice(strongest.start, strongest.end), top, `the overlay and the hover agree on the strongest key (${viewLabel(view, 8)})`);
        break;
      }

      putCursor(editor, positionOf(editor.document, 'animal', 2));
      await until(vscode.window.onDidChangeTextEditorSelection, () => api.overlay().focus?.index === 1); // "animal" is token 1
      assert.ok(api.overlay().painted, 'painted for the new focus');

      assert.strictEqual(await vscode.commands.executeCommand(TOGGLE), false);
      assert.strictEqual(api.overlay().painted, undefined, 'cleared on command');
    } finally {
      await restore();
    }
  });

  it('clears when the inspected text changes', async () => {
    const restore = await setSettings({ model: 'demo' });
    try {
      const api = await inspectorApi();
      const editor = await showSelectedText(SENTENCE);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      putCursor(editor, positionOf(editor.document, 'street'));
      await vscode.commands.executeCommand(TOGGLE);
      assert.ok(api.overlay().painted);
      await editor.edit((e) => e.replace(new vscode.Range(positionOf(editor.document, 'animal'), positionOf(editor.document, 'animal', 6)), 'dog'));
      assert.strictEqual(api.overlay().painted, undefined, 'nothing painted on changed text');
      assert.strictEqual(api.overlay().enabled, true, 'the overlay stays on for the next run');
    } finally {
      await restore();
    }
  });
});
