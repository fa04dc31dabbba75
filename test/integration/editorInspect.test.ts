import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { loadModel } from '../../src/engine/loadModel';
import { LLAMA, assertDone, assertNotice, inspectorApi, runCommand, setSettings } from './editorHelpers';
import { askPage, pageBridgeAvailable, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

describe('Editor: Inspect Selection, status bar, cancel, export', () => {
  afterEach(closeAllEditors);

  it('runs llama-stories260K on the selection: every token, every layer, and the status bar names model, backend, tokens and time', async function () {
    const restore = await setSettings({ model: LLAMA });
    try {
      const api = await inspectorApi();
      await showSelectedText(STORY);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      const expected = (await loadModel(LLAMA).tokenizer!.encode(STORY)).ids.length;
      assert.strictEqual(outcome.tokens, expected);
      assert.deepStrictEqual(outcome.stacks, ['self']);
      assert.match(api.statusText(), new RegExp(`llama-stories260K · (CPU|.+) · ${expected} tokens · \\d+ ms`));
      skipWithoutPageBridge(this);
      const app = (await askPage({ kind: 'webview', waitFor: '#app[data-state="done"]', read: ['#app'], screenshot: 'editor-llama-panel', timeoutMs: 30_000 }))['#app'];
      assert.strictEqual(Number(app.attributes['data-token-count']), expected);
      assert.strictEqual(Number(app.attributes['data-layers-received']), 5);
    } finally {
      await restore();
    }
  });

  it('Cancel Inspection stops a running inspection; the panel says so and the next run works', async function () {
    // 1,500 tokens on the demo: a run that takes a while, as a user would cancel.
    const text = Array.from({ length: 1500 }, (_, i) => `w${i % 300}`).join(' ');
    const restore = await setSettings({ model: 'demo', maxTokens: 4096 });
    try {
      const api = await inspectorApi();
      await showSelectedText(text);
      // Cancelled from the run's start event, so the cancel always lands while the run streams.
      let cancelled: Thenable<unknown> | undefined;
      const subscription = api.onDidStartRun(() => (cancelled = vscode.commands.executeCommand('attentionInspector.cancelInspection')));
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND).finally(() => subscription.dispose());
      assert.strictEqual(await cancelled, true, 'the cancel found the run');
      assert.strictEqual(outcome.status, 'cancelled');
      assertNotice(outcome.notice, 'info', /cancelled/);
      assert.strictEqual(await vscode.commands.executeCommand('attentionInspector.cancelInspection'), false, 'nothing left to cancel');
      if (pageBridgeAvailable()) {
        const app = (await askPage({ kind: 'webview', waitFor: '#app[data-state="error"]', read: ['#app'], timeoutMs: 15_000 }))['#app'];
        assert.match(app.text, /cancelled/);
      }
      await showSelectedText('The run after a cancel works.');
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      skipWithoutPageBridge(this);
    } finally {
      await restore();
    }
  });

  it('Export… saves the run as a standalone HTML report and as JSON matrices', async () => {
    const restore = await setSettings({ model: 'demo' });
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-export-'));
    try {
      await showSelectedText('I Love Nature Language Processing');
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const html = path.join(folder, 'report.html');
      const saved = (await vscode.commands.executeCommand('attentionInspector.export', { format: 'html', path: html })) as { status: string; path: string };
      assert.strictEqual(saved.status, 'saved');
      assert.match(fs.readFileSync(html, 'utf8'), /<!DOCTYPE html>/i);
      const json = path.join(folder, 'matrices.json');
      await vscode.commands.executeCommand('attentionInspector.export', { format: 'json', path: json });
      const matrices = JSON.parse(fs.readFileSync(json, 'utf8')) as { model: string; stack: string; keyTokens: string[]; layers: { shape: number[] }[] };
      assert.strictEqual(matrices.model, 'demo');
      assert.strictEqual(matrices.stack, 'self');
      assert.deepStrictEqual(matrices.layers[0].shape, [8, matrices.keyTokens.length, matrices.keyTokens.length]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
      await restore();
    }
  });
});
