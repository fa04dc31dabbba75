// The linux-x64 .vsix as a user has it: installed with `code-server --install-extension` into a fresh
// extensions directory (test/runner/installed.ts), not loaded from this repository. The checks read the
// installed extension's API and the page; nothing here loads the repository's engine.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ENV } from '../integration/contract';
import { LLAMA, assertDone, hoverRows, hoverWithSelection, inspectorApi, positionOf, putCursor, runCommand, setSettings } from '../integration/editorHelpers';
import { askPage } from '../integration/pageBridge';
import { EXTENSION_ID, INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from '../integration/workbench';
import { sharedPath } from '../helpers/shared';

const TUTORIAL = '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。';
const TOGGLE_OVERLAY = 'attentionInspector.toggleHeatOverlay';
/** What the linux-x64 .vsix must carry of the native packages, and nothing more. */
const LINUX_X64_NATIVES = ['dist/node_modules/tokenizers/tokenizers.linux-x64-gnu.node', 'dist/node_modules/webgpu/dist/linux-x64/dawn.node'];

function filesBelow(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => fs.statSync(path.join(root, name)).isFile())
    .map((name) => name.split(path.sep).join('/'))
    .sort();
}

describe('Installed .vsix', () => {
  afterEach(closeAllEditors);

  it('is the copy installed into the fresh extensions directory, with only linux-x64 native files and no sources, tests or maps', () => {
    const extensionsDir = process.env[ENV.extensionsDir];
    assert.ok(extensionsDir, `${ENV.extensionsDir} is not set: run this suite through test/runner/installed.ts`);
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    assert.strictEqual(path.dirname(extension.extensionPath), path.resolve(extensionsDir), 'loaded from the extensions directory');
    const files = filesBelow(extension.extensionPath);
    assert.deepStrictEqual(files.filter((f) => f.endsWith('.node')), LINUX_X64_NATIVES);
    assert.deepStrictEqual(files.filter((f) => /\.(map|ts)$/.test(f) || /^(src|test|out|webview|node_modules|scripts)\//.test(f)), [], 'no sources, tests, maps or top-level node_modules');
    for (const file of ['dist/extension.js', 'dist/engineWorker.js', 'media/webview.js', 'media/icon.png', 'README.md', 'CHANGELOG.md', 'LICENSE.txt']) {
      assert.ok(files.includes(file) || files.includes(file.toLowerCase()), `${file} is in the package: ${files.join(', ')}`);
    }
  });

  it('activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const started = Date.now();
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
    console.log(`      (activated in ${Date.now() - started} ms)`);
  });

  describe('on the demo model', () => {
    let restore: () => Promise<void>;
    before(async () => (restore = await setSettings({ model: 'demo', 'hover.topK': 3, defaultAggregation: 'mean' })));
    after(() => restore());

    it('Inspect Selection renders every token of the tutorial sentence in the panel', async () => {
      await showSelectedText(TUTORIAL);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      assert.strictEqual(outcome.tokens, [...TUTORIAL].length, 'the demo model reads one token per character');
      const elements = await askPage({
        kind: 'webview',
        waitFor: '#app[data-state="done"], #app[data-state="error"]',
        read: ['#app', '#app .token'],
        screenshot: 'installed-demo-panel',
        timeoutMs: 45_000,
      });
      assert.strictEqual(elements['#app'].attributes['data-state'], 'done', elements['#app'].text.slice(0, 300));
      assert.strictEqual(elements['#app .token'].count, outcome.tokens);
      // The whole window, for the README: the sentence beside the panel with "他" locked, as its hover link opens it.
      assert.ok(await vscode.commands.executeCommand('attentionInspector.revealInPanel', { stack: 'self', layer: 0, token: 6 }));
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
      await askPage({ kind: 'workbench', waitFor: '.monaco-workbench', read: [], screenshot: 'installed-workbench', timeoutMs: 15_000 });
    });

    it('the hover lists what "他" attends to, in the provider and in the visible widget', async () => {
      const api = await inspectorApi();
      const editor = await showSelectedText(TUTORIAL);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      const position = positionOf(editor.document, '他');
      const { markdown } = await hoverWithSelection(api, editor.document, position);
      assert.ok(markdown.startsWith('**“他” — layer 0'), markdown);
      assert.strictEqual(hoverRows(markdown).length, 6, 'top 3 in each direction');
      putCursor(editor, position);
      await vscode.commands.executeCommand('editor.action.showHover');
      const widget = await askPage({ kind: 'hover', read: [':scope', 'table'], screenshot: 'installed-hover', timeoutMs: 15_000 });
      assert.ok(widget[':scope'].text.includes('“他” —'), widget[':scope'].text);
      assert.strictEqual(widget.table.count, 1, 'one table: the two directions side by side');
      assert.match(widget.table.text, /Attends to[\s\S]*Attended by/);
    });

    it('the heat overlay paints the cursor token\'s attention and clears on toggle', async () => {
      const api = await inspectorApi();
      const editor = await showSelectedText(TUTORIAL);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      putCursor(editor, positionOf(editor.document, '他'));
      assert.strictEqual(await vscode.commands.executeCommand(TOGGLE_OVERLAY), true);
      const painted = api.overlay().painted;
      assert.ok(painted && painted.uri === editor.document.uri.toString(), 'painted on the inspected document');
      assert.ok(painted.spans.some((s) => s.level === 8), 'the strongest key at full intensity');
      assert.ok(painted.spans.every((s) => s.start >= 0 && s.end <= TUTORIAL.length));
      assert.strictEqual(await vscode.commands.executeCommand(TOGGLE_OVERLAY), false);
      assert.strictEqual(api.overlay().painted, undefined);
    });
  });

  it('Inspect Selection on a model folder (llama-stories260K) tokenizes with the installed tokenizer and runs on the installed Dawn', async () => {
    const reference = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'once_upon.json'), 'utf8')) as { text: string; input_ids: number[] };
    const restore = await setSettings({ model: LLAMA, backend: 'webgpu' });
    try {
      const api = await inspectorApi();
      await showSelectedText(reference.text);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      assert.strictEqual(outcome.tokens, reference.input_ids.length, 'as many tokens as transformers\' tokenizer makes');
      assert.doesNotMatch(api.statusText(), /CPU/, `ran on WebGPU: ${api.statusText()}`);
      const elements = await askPage({ kind: 'webview', waitFor: '#app[data-state="done"], #app[data-state="error"]', read: ['#app'], timeoutMs: 45_000 });
      assert.strictEqual(elements['#app'].attributes['data-state'], 'done', elements['#app'].text.slice(0, 300));
      assert.strictEqual(Number(elements['#app'].attributes['data-token-count']), reference.input_ids.length);
    } finally {
      await restore();
    }
  });

  it('its Extensions page shows the name, the icon and the README written for users', async () => {
    await vscode.commands.executeCommand('extension.open', EXTENSION_ID);
    const header = '.extension-editor .header';
    const page = await askPage({
      kind: 'workbench',
      waitFor: `${header} .name`,
      read: [`${header} .name`, `${header} .icon`],
      screenshot: 'installed-extensions-page',
      timeoutMs: 30_000,
    });
    assert.strictEqual(page[`${header} .name`].text, 'Attention Inspector');
    const icon = decodeURIComponent(page[`${header} .icon`].attributes.src ?? '');
    assert.ok(icon.includes(`${vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath}/media/icon.png`), `the PNG icon from the installed folder: ${icon}`);
    const readme = await askPage({ kind: 'webview', host: 'iframe.webview.ready[src*="extensionId=&"]', waitFor: 'h1', read: ['h1', 'body'], timeoutMs: 30_000 });
    const text = readme.body.text;
    assert.strictEqual(readme.h1.text, 'Attention Inspector');
    for (const heading of ['Install', 'First steps', 'Source and contributing']) assert.ok(text.includes(heading), `the README has "${heading}": ${text.slice(0, 500)}`);
    for (const developerOnly of ['npm test', 'npm run demo', 'For contributors']) assert.ok(!text.includes(developerOnly), `the README shows "${developerOnly}"`);
  });
});
