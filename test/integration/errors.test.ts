import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/host/runs/inspectionRunner';
import type { ChooseOutcome } from '../../src/host/modelPicker/modelPicker';
import { LLAMA, assertDone, assertNotice, inspectorApi, modelSetting, nextEvent, runCommand, setSettings } from './editorHelpers';
import { askPageFully, pageBridgeAvailable } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const CROSS_COMMAND = 'attentionInspector.inspectCrossAttention';

/** After every error the extension must still work: a plain demo run succeeds. */
async function assertStillWorks(): Promise<void> {
  await showSelectedText('Still working after the error.');
  assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
}

describe('Errors: each says what to do, and the extension keeps working', () => {
  let scratch: string;
  before(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-errors-'))));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  afterEach(closeAllEditors);

  it('no editor, and no selection: the cursor\'s line is inspected and the user told so; a blank line is refused', async () => {
    await closeAllEditors();
    assertNotice((await runCommand(INSPECT_SELECTION_COMMAND)).notice, 'error', /Open a file and select the text/);
    const restore = await setSettings({ model: 'demo' });
    try {
      const editor = await showSelectedText('first line\n  nothing selected here  \n\nlast');
      editor.selection = new vscode.Selection(1, 5, 1, 5);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      assertNotice(outcome.notice, 'info', /Nothing was selected, so line 2 is inspected/);
      assert.strictEqual(editor.document.getText(editor.selection), 'nothing selected here', 'the line, trimmed, is selected');
      assert.strictEqual(outcome.tokens, 3, 'the demo tokenizes the line into its three words');
      editor.selection = new vscode.Selection(2, 0, 2, 0);
      assertNotice((await runCommand(INSPECT_SELECTION_COMMAND)).notice, 'error', /Nothing is selected and line 3 is blank/);
      assertNotice((await runCommand(CROSS_COMMAND, { target: { text: 'x' } })).notice, 'error', /Nothing is selected/);
      await assertStillWorks();
    } finally {
      await restore();
    }
  });

  it('a folder without config.json: refused by Choose Model, and a clear error when the setting names it', async () => {
    const empty = path.join(scratch, 'no-config');
    fs.mkdirSync(empty);
    const before = modelSetting();
    const chosen = (await vscode.commands.executeCommand('attentionInspector.chooseModel', { kind: 'folder', path: empty })) as ChooseOutcome;
    assert.strictEqual(chosen.status, 'failed');
    assertNotice(chosen.notice, 'error', /has no config\.json/);
    assert.strictEqual(modelSetting(), before, 'the setting is unchanged');

    const restore = await setSettings({ model: empty });
    try {
      await showSelectedText('Once upon a time');
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'failed');
      const notice = assertNotice(outcome.notice, 'error', /has no config\.json, so it is not a Hugging Face model folder .* Choose another model: a folder with config\.json/);
      assert.deepStrictEqual(notice.actions, ['Choose Model…']);
    } finally {
      await restore();
    }
    await assertStillWorks();
  });

  it('unreadable safetensors: refused by Choose Model, and a clear error from a run', async () => {
    const broken = path.join(scratch, 'broken-weights');
    fs.mkdirSync(broken);
    for (const file of ['config.json', 'tokenizer.json']) fs.copyFileSync(path.join(LLAMA, file), path.join(broken, file));
    fs.writeFileSync(path.join(broken, 'model.safetensors'), Buffer.from('definitely not a safetensors file'));
    const chosen = (await vscode.commands.executeCommand('attentionInspector.chooseModel', { kind: 'folder', path: broken })) as ChooseOutcome;
    assertNotice(chosen.status === 'failed' ? chosen.notice : undefined, 'error', /model\.safetensors/);

    const restore = await setSettings({ model: broken });
    try {
      await showSelectedText('Once upon a time');
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'failed');
      assertNotice(outcome.notice, 'error', /model\.safetensors.*header/);
    } finally {
      await restore();
    }
    await assertStillWorks();
  });

  it('too many tokens: the run stops, offers "Truncate to N tokens", and the offer re-runs on the first N tokens', async () => {
    const restore = await setSettings({ model: LLAMA, maxTokens: 8 });
    try {
      const api = await inspectorApi();
      const text = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';
      const editor = await showSelectedText(text);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'too-many-tokens');
      assert.ok(outcome.tokens! > 8);
      const notice = assertNotice(outcome.notice, 'warning', /has \d+ tokens, more than attentionInspector\.maxTokens \(8\)/);
      assert.ok(notice.actions.includes('Truncate to 8 tokens'), notice.actions.join(', '));
      assert.ok(api.notices().includes(notice), 'the notice was shown');

      const truncated = (await api.chooseAction(notice, 'Truncate to 8 tokens')) as RunOutcome;
      assertDone(truncated);
      assert.ok(truncated.tokens! <= 8 && truncated.tokens! >= 7, `${truncated.tokens} tokens after truncating`);
      const selected = editor.document.getText(editor.selection);
      assert.ok(text.startsWith(selected) && selected.length < text.length, `the editor selects the truncated text: "${selected}"`);

      // The same offer stays in the panel after the notification hides: its button re-runs too.
      if (pageBridgeAvailable()) {
        editor.selection = new vscode.Selection(editor.document.positionAt(0), editor.document.positionAt(text.length));
        assert.strictEqual((await runCommand(INSPECT_SELECTION_COMMAND)).status, 'too-many-tokens');
        const ended = nextEvent(api.onDidEndRun);
        const offer = '#app[data-state="error"] .alert-action[data-action="truncate"]';
        const { elements } = await askPageFully({ kind: 'webview', waitFor: offer, read: ['.alert', '.alert-action'], screenshot: 'too-many-tokens-panel-offer', timeoutMs: 30_000 });
        await askPageFully({ kind: 'webview', waitFor: offer, read: [], steps: [{ click: offer }], timeoutMs: 30_000 });
        assert.match(elements['.alert'].text, /more than attentionInspector\.maxTokens \(8\)/);
        assert.strictEqual(elements['.alert-action'].text, 'Truncate to 8 tokens');
        const rerun = await ended;
        assertDone(rerun);
        assert.ok(rerun.tokens! <= 8, `${rerun.tokens} tokens after the panel's truncation`);
      }
    } finally {
      await restore();
    }
    await assertStillWorks();
  });

  it('past the model\'s trained context (llama-stories260K: 512 positions): refused with the offers to truncate or to run past it', async () => {
    const restore = await setSettings({ model: LLAMA, maxTokens: 4096 });
    try {
      const api = await inspectorApi();
      await showSelectedText('Once upon a time, there was a little girl named Lily. She loved to play outside. '.repeat(40));
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'too-many-tokens');
      const notice = assertNotice(outcome.notice, 'warning', /but this model supports at most 512/);
      assert.deepStrictEqual(notice.actions, ['Truncate to 512 tokens', 'Run Past the Context', 'Open Settings']);
      const past = (await api.chooseAction(notice, 'Run Past the Context')) as RunOutcome;
      assertDone(past);
      assert.ok(past.tokens! > 512, `${past.tokens} tokens, past the 512 positions`);
    } finally {
      await restore();
    }
  });

  it('cross-attention on a decoder-only model, and a Hub id that is not cached', async () => {
    await showSelectedText('Once upon a time');
    const decoderOnly = await runCommand(CROSS_COMMAND, { target: { text: 'x' }, model: LLAMA });
    assertNotice(decoderOnly.notice, 'error', /llama model: it has no cross-attention/);

    const cacheDir = fs.mkdtempSync(path.join(scratch, 'empty-cache-'));
    const previous = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = cacheDir; // the extension host reads the cache location at each lookup
    const restore = await setSettings({ model: 'some-org/not-downloaded' });
    try {
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'failed');
      assertNotice(outcome.notice, 'error', /not-downloaded is neither a folder nor a model in the Hugging Face cache.*"Attention: Download Model from Hugging Face"/);
    } finally {
      await restore();
      if (previous === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = previous;
    }
    await assertStillWorks();
  });
});
