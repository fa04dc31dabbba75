import * as assert from 'assert';
import * as vscode from 'vscode';
import { loadModel } from '../../src/engine/loadModel';
import { askPage, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, PANEL_VIEW_TYPE, closeAllEditors, openPanelTabs, panelTabOpened, showSelectedText } from './workbench';

// The panel's contract: root `#app` with data-state, data-token-count, data-layers-received; `.token` per token.
const APP = '#app';
const TOKENS = '#app .token';
const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const MODEL = 'demo';

describe('Inspect Selection', () => {
  const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionInspector');
  // Pinned, so that the expected counts below come from the same model as the panel's.
  before(() => settings().update('model', MODEL, vscode.ConfigurationTarget.Global));
  after(() => settings().update('model', undefined, vscode.ConfigurationTarget.Global));
  afterEach(closeAllEditors);

  it('opens the panel on the selection and renders every token of it', async function () {
    await showSelectedText(SENTENCE);
    const panelTab = panelTabOpened(PANEL_VIEW_TYPE);
    await vscode.commands.executeCommand(INSPECT_SELECTION_COMMAND);
    await panelTab;
    assert.strictEqual(openPanelTabs(PANEL_VIEW_TYPE).length, 1, 'expected exactly one Attention Inspector panel');
    skipWithoutPageBridge(this);

    const loaded = loadModel(MODEL);
    const expectedTokens = (await loaded.tokenizer!.encode(SENTENCE)).ids.length;
    const elements = await askPage({
      kind: 'webview',
      waitFor: `${APP}[data-state="done"], ${APP}[data-state="error"]`,
      read: [APP, TOKENS],
      screenshot: 'inspect-selection-panel',
      timeoutMs: 45_000,
    });
    const app = elements[APP].attributes;
    assert.strictEqual(app['data-state'], 'done', `the panel ended in state ${app['data-state']}: ${elements[APP].text.slice(0, 300)}`);
    assert.strictEqual(Number(app['data-token-count']), expectedTokens, 'data-token-count');
    assert.strictEqual(elements[TOKENS].count, expectedTokens, 'number of .token elements');
    assert.strictEqual(Number(app['data-layers-received']), loaded.model.info.numLayers, 'data-layers-received');
  });
});
