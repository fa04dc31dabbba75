import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunOutcome as GenerateOutcome } from '../../src/host/runs/inspectionRunner';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { generate } from '../../src/engine/generate';
import { loadModel } from '../../src/engine/loadModel';
import { tokenPiece } from '../../src/view-model/generation';
import { LLAMA, assertNotice, inspectorApi, setSettings } from './editorHelpers';
import { askPage, skipWithoutPageBridge } from './pageBridge';
import { closeAllEditors, showSelectedText } from './workbench';

const GENERATE = 'attentionInspector.generateAndStep';
const PROMPT = 'Once upon a time';
const COUNT = 8;

async function runGenerate(count: number): Promise<GenerateOutcome> {
  return (await vscode.commands.executeCommand(GENERATE, count)) as GenerateOutcome;
}

/** What the engine generates greedily after the prompt, computed here on the CPU (as the panel's run). */
async function expectedTokens(): Promise<string[]> {
  const loaded = loadModel(LLAMA);
  const ids = (await loaded.tokenizer!.encode(PROMPT)).ids;
  const tokens: string[] = [];
  for await (const event of generate(loaded.model, new ReferenceBackend(), { ids, maxNewTokens: COUNT, wants: {} })) {
    if (event.type === 'token') tokens.push(loaded.tokenizer!.idToToken(event.id));
  }
  return tokens;
}

describe('Generate and Step Through', () => {
  afterEach(closeAllEditors);

  it('generates tokens with llama-stories260K after the selection and steps through them in the panel', async function () {
    const restore = await setSettings({ model: LLAMA, backend: 'cpu' });
    try {
      await showSelectedText(PROMPT);
      const outcome = await runGenerate(COUNT);
      assert.strictEqual(outcome.status, 'done', `the run ended ${outcome.status}: ${outcome.notice?.message ?? ''}`);
      assert.strictEqual(outcome.generated, COUNT);
      const api = await inspectorApi();
      assert.match(api.statusText(), new RegExp(`llama-stories260K · CPU · 5 tokens \\+ ${COUNT} generated · \\d+ ms$`), 'the status bar describes this generation, not an earlier run');
      skipWithoutPageBridge(this);

      const elements = await askPage({
        kind: 'webview',
        waitFor: `#app[data-state="done"][data-generated="${COUNT}"]`,
        read: ['#app', '#tab-steps', '.gen-token', '.gen-prompt', '.gen-tokens', '#step-slider', '#step-caption', '.step-grid', '.sg-caption'],
        screenshot: 'generate-and-step',
        timeoutMs: 45_000,
      });
      const app = elements['#app'].attributes;
      assert.strictEqual(app['data-step'], String(COUNT - 1), 'the stepper shows the newest token');
      assert.strictEqual(elements['#tab-steps'].attributes['aria-selected'], 'true', 'the Generation view opens');
      assert.strictEqual(elements['.gen-token'].count, COUNT);
      assert.strictEqual(elements['.gen-prompt'].text, PROMPT);
      assert.strictEqual(elements['.gen-tokens'].text, (await expectedTokens()).map(tokenPiece).join(''));
      assert.strictEqual(elements['#step-slider'].attributes.max, String(COUNT - 1));
      assert.match(elements['#step-caption'].text, new RegExp(`^Token ${COUNT} of ${COUNT}: .* attended to ${5 + COUNT - 1} tokens`));
      assert.strictEqual(elements['.step-grid'].count, 1);
      assert.match(elements['.sg-caption'].text, /^Self-attention: 5 layers × 8 heads, 12 keys/);
    } finally {
      await restore();
    }
  });

  it('the demo model cannot generate: the panel and a notice say so', async function () {
    const restore = await setSettings({ model: 'demo' });
    try {
      await showSelectedText(PROMPT);
      const outcome = await runGenerate(4);
      assert.strictEqual(outcome.status, 'failed');
      assertNotice(outcome.notice, 'error', /cannot generate; use a real model/);
      skipWithoutPageBridge(this);
      const elements = await askPage({
        kind: 'webview', waitFor: '#app[data-state="error"] .alert:has-text("cannot generate")', read: ['.alert', '#views .placeholder', '.status'],
        screenshot: 'generate-demo-error', timeoutMs: 30_000,
      });
      assert.match(elements['.alert'].text, /demo has no language-model head, so it cannot generate/);
      // The view says the run stopped instead of waiting for a layer that never comes.
      assert.match(elements['#views .placeholder'].text, /^Nothing to draw: the run stopped/);
      assert.match(elements['#views .placeholder'].attributes.class, /\bfailed\b/);
      assert.doesNotMatch(elements['.status'].text, /computing/);
    } finally {
      await restore();
    }
  });

  it('refuses a count outside 1…512', async () => {
    await showSelectedText(PROMPT);
    assertNotice((await runGenerate(0)).notice, 'error', /whole number from 1 to 512/);
  });
});
