import * as assert from 'assert';
import * as vscode from 'vscode';
import type { BaselineOutcome } from '../../src/host/commands/baseline';
import { assertDone, assertNotice, runCommand, setSettings } from './editorHelpers';
import { askPage, pageBridgeAvailable, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const PIN = 'attentionInspector.pinBaseline';
const COMPARE = 'attentionInspector.compareWithBaseline';

async function baselineCommand(command: string): Promise<BaselineOutcome> {
  return (await vscode.commands.executeCommand(command)) as BaselineOutcome;
}

/** Replaces the editor's whole text and selects it all, as a user editing the sentence would. */
async function retype(editor: vscode.TextEditor, text: string): Promise<void> {
  const document = editor.document;
  await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), text));
  editor.selection = new vscode.Selection(document.positionAt(0), document.positionAt(text.length));
}

describe('Pin as Baseline and Compare with Baseline', () => {
  let restore: () => Promise<void>;
  before(async () => (restore = await setSettings({ model: 'demo' })));
  after(() => restore());
  afterEach(closeAllEditors);

  it('edit the text, re-run, and see which weights changed', async function () {
    assertNotice((await baselineCommand(COMPARE)).notice, 'error', /No baseline is pinned: run "Attention: Pin as Baseline"/);
    const editor = await showSelectedText('The quick brown fox jumps over the lazy dog.');
    assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
    const pinned = await baselineCommand(PIN);
    assert.strictEqual(pinned.status, 'pinned', pinned.notice.message);
    assertNotice(pinned.notice, 'info', /Pinned “The quick brown fox.*” \(demo, 10 tokens\) as the baseline/);

    await retype(editor, 'The slow brown fox jumps over the lazy dog.');
    assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
    const compared = await baselineCommand(COMPARE);
    assert.strictEqual(compared.status, 'comparing', compared.notice.message);
    if (pageBridgeAvailable()) {
      const elements = await askPage({
        kind: 'webview', waitFor: '#app[data-state="done"][data-compare="on"]',
        read: ['.diff-description', '.removed-token', '.hv-token.added', '.diff-change', '.hv-summary'],
        screenshot: 'compare-with-baseline', timeoutMs: 30_000,
      });
      assert.match(elements['.diff-description'].text, /Baseline: “The quick brown fox jumps over the lazy dog\.” \(10 tokens\)/);
      assert.deepStrictEqual([elements['.removed-token'].count, elements['.removed-token'].text], [1, '“quick” (1)']);
      assert.deepStrictEqual([elements['.hv-token.added'].count, elements['.hv-token.added'].text], [2, 'slow'], 'the new token, as query and as key');
      assert.strictEqual(elements['.diff-change'].count, 8);
      assert.match(elements['.hv-summary'].text, /Lines show changes since the baseline/);
    }

    // Once more: switched off, the panel shows the plain run again.
    assertNotice((await baselineCommand(COMPARE)).notice, 'info', /Stopped comparing/);
    if (pageBridgeAvailable()) {
      const plain = await askPage({ kind: 'webview', waitFor: '#app[data-state="done"]:not([data-compare])', read: ['.diff-bar'], timeoutMs: 30_000 });
      assert.strictEqual(plain['.diff-bar'].attributes.hidden, '');
    }
    skipWithoutPageBridge(this);
  });

  it('a run of another model is not compared: the panel says why', async function () {
    await showSelectedText('The quick brown fox jumps over the lazy dog.');
    assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
    assert.strictEqual((await baselineCommand(PIN)).status, 'pinned');
    const restoreModel = await setSettings({ model: 'demo-causal' });
    try {
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      assert.strictEqual((await baselineCommand(COMPARE)).status, 'comparing');
      skipWithoutPageBridge(this);
      const elements = await askPage({
        kind: 'webview', waitFor: '#app[data-state="done"][data-compare="problem"]', read: ['.diff-problem', '.hv-token.added'],
        screenshot: 'compare-other-model', timeoutMs: 30_000,
      });
      assert.match(elements['.diff-problem'].text, /Not compared: the baseline comes from demo \(1 layer × 8 heads\), this run from demo-causal/);
      assert.strictEqual(elements['.hv-token.added'].count, 0);
    } finally {
      assertNotice((await baselineCommand(COMPARE)).notice, 'info', /Stopped comparing/);
      await restoreModel();
    }
  });
});
