import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ChooseOutcome } from '../../src/host/modelPicker/modelPicker';
import { HubTestServer } from '../helpers/hubServer';
import { LLAMA, MODELS, assertDone, assertNotice, inspectorApi, modelSetting, nextEvent, runCommand, setSettings } from './editorHelpers';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const CHOOSE = 'attentionInspector.chooseModel';
const DOWNLOAD = 'attentionInspector.downloadModel';
const COMMIT = '1'.repeat(40);

/** Sets environment variables of the extension host (the hub code reads them at each call); returns the undo. */
function setEnv(values: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(values);
  return () => apply(previous);
}

/** A Hugging Face cache holding llama-stories260K as test/llama-stories (main), its files linked from ../shared. */
function cacheWithLlama(cacheDir: string): void {
  const repo = path.join(cacheDir, 'models--test--llama-stories');
  const snapshot = path.join(repo, 'snapshots', COMMIT);
  fs.mkdirSync(snapshot, { recursive: true });
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) fs.symlinkSync(path.join(LLAMA, file), path.join(snapshot, file));
  fs.mkdirSync(path.join(repo, 'refs'));
  fs.writeFileSync(path.join(repo, 'refs', 'main'), COMMIT);
}

async function choose(choice?: unknown): Promise<ChooseOutcome> {
  return (await vscode.commands.executeCommand(CHOOSE, choice)) as ChooseOutcome;
}

describe('Choose Model…', () => {
  let scratch: string;
  beforeEach(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-models-'))));
  afterEach(async () => {
    await vscode.workspace.getConfiguration('attentionInspector').update('model', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(scratch, { recursive: true, force: true });
    await closeAllEditors();
  });

  it('the quick pick lists the demo models, the Hugging Face cache, a folder and the Hub; picking a cached model saves and runs it', async () => {
    cacheWithLlama(scratch);
    const restoreEnv = setEnv({ HF_HUB_CACHE: scratch });
    try {
      const api = await inspectorApi();
      const shown = nextEvent(api.onDidShowModelPicker);
      const picked = vscode.commands.executeCommand(CHOOSE) as Thenable<ChooseOutcome>;
      const rows = await shown;
      const expected = ['demo', 'demo-causal', 'test/llama-stories', 'Open a folder…', 'Download from the Hugging Face Hub…'];
      assert.deepStrictEqual(rows.map((r) => r.replace(/^\$\([\w-]+\) /, '')), expected);
      // Drive the visible quick pick as a user would: down to the cached model, Enter.
      for (let i = 0; i < expected.indexOf('test/llama-stories'); i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      const outcome = await picked;
      assert.strictEqual(outcome.status, 'chosen');
      assert.strictEqual(outcome.status === 'chosen' && outcome.savedIn, 'user');
      assert.strictEqual(modelSetting(), 'test/llama-stories');

      await showSelectedText('Once upon a time');
      const run = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(run);
      assert.strictEqual(run.model, 'test/llama-stories', 'the run loads the cached snapshot by its Hub id');
    } finally {
      restoreEnv();
    }
  });

  it('a folder (llama-stories260K from ../shared) and a built-in model, chosen directly', async () => {
    const folder = await choose({ kind: 'folder', path: LLAMA });
    assert.strictEqual(folder.status, 'chosen');
    assertNotice(folder.status === 'chosen' ? folder.notice : undefined, 'info', /llama-stories260K\. Saved in the user settings/);
    assert.strictEqual(modelSetting(), LLAMA);
    const api = await inspectorApi();
    assert.match(api.statusText(), /llama-stories260K · ready$/, 'the status bar names the chosen model before any run');
    await showSelectedText('Lily went to the park.');
    assert.strictEqual((await runCommand(INSPECT_SELECTION_COMMAND)).model, 'llama-stories260K');
    assert.match(api.statusText(), /llama-stories260K · [^·]+ · \d+ tokens · \d+ ms$/);

    assert.strictEqual((await choose({ kind: 'builtIn', name: 'demo-causal' })).status, 'chosen');
    assert.strictEqual(modelSetting(), 'demo-causal');
    assert.match(api.statusText(), /demo-causal · ready$/, 'the status bar no longer names the previous run\'s model');
  });

  it('offline mode (the setting, or HF_HUB_OFFLINE) refuses a download before asking anything', async () => {
    const restore = await setSettings({ offline: true });
    try {
      const outcome = (await vscode.commands.executeCommand(DOWNLOAD, 'test/anything')) as ChooseOutcome;
      assert.strictEqual(outcome.status, 'failed');
      const notice = assertNotice(outcome.status === 'failed' ? outcome.notice : undefined, 'error', /Cannot download: offline mode is on \(attentionInspector\.offline\)/);
      assert.deepStrictEqual(notice.actions, ['Open Settings']);
    } finally {
      await restore();
    }
    const restoreEnv = setEnv({ HF_HUB_OFFLINE: '1' });
    try {
      const outcome = (await vscode.commands.executeCommand(DOWNLOAD, 'test/anything')) as ChooseOutcome;
      assertNotice(outcome.status === 'failed' ? outcome.notice : undefined, 'error', /HF_HUB_OFFLINE/);
    } finally {
      restoreEnv();
    }
    assert.strictEqual(modelSetting(), undefined, 'the model setting is unchanged');
  });

  it('Download Model from Hugging Face: fetches into the cache (from a local stand-in for the Hub), saves the id, and runs it', async () => {
    const hub = await HubTestServer.start({ 'test/gpt2-tiny': path.join(MODELS, 'gpt2-tiny-random') });
    const restoreEnv = setEnv({ HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: scratch, HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined });
    try {
      const outcome = (await vscode.commands.executeCommand(DOWNLOAD, 'test/gpt2-tiny')) as ChooseOutcome;
      assert.strictEqual(outcome.status, 'chosen', outcome.status !== 'cancelled' ? outcome.notice?.message : 'cancelled');
      assert.strictEqual(modelSetting(), 'test/gpt2-tiny');
      const snapshot = path.join(scratch, 'models--test--gpt2-tiny', 'snapshots', hub.commitOf('test/gpt2-tiny'));
      assert.ok(fs.existsSync(path.join(snapshot, 'model.safetensors')), 'the weights are in the cache');
      await showSelectedText('Hello world');
      const run = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(run);
      assert.strictEqual(run.model, 'test/gpt2-tiny');
    } finally {
      restoreEnv();
      await hub.close();
    }
  });
});
