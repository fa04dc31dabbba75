/**
 * The quirks of the new families, as the panel shows them (issue 16): Gemma 2 from a folder — its
 * sliding-window band in the Matrix view, apart from the causal mask, on its local layers only; its
 * soft-cap, query_pre_attn_scalar and window in the Step-by-step view; its grouped key/value heads
 * in the swatches and the Model view — and GPT-NeoX's rotary embedding on a quarter of each head.
 */
import * as assert from 'assert';
import * as path from 'path';
import { MODELS, assertDone, runCommand, setSettings } from './editorHelpers';
import { askPageFully, chooseInSelect, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const TEXT = 'Once upon a time there was a little girl who loved to play in the park with her red ball every day.';

const pickLayer = (layer: number) => chooseInSelect('Layer', String(layer));

describe('Model families: their quirks in the panel', () => {
  afterEach(closeAllEditors);

  it('gemma2-tiny-random: the sliding-window band on local layers, the soft-cap and scale stages, the kv-head groups', async function () {
    this.timeout(120_000);
    const restore = await setSettings({ model: path.join(MODELS, 'gemma2-tiny-random') });
    try {
      await showSelectedText(TEXT);
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      assert.ok(outcome.tokens! > 12, `${outcome.tokens} tokens: longer than the window of 8`);
      skipWithoutPageBridge(this);
      const local = await askPageFully({
        kind: 'webview', waitFor: '#app[data-state="done"]',
        steps: [{ click: '#tab-matrix' }, { evaluate: pickLayer(0), name: 'layer0' }, { waitFor: '#app:not([data-loading]) .matrix-view[data-window] .legend' }],
        read: ['.matrix-view', '.matrix-view .legend', '.kv-group'], screenshot: 'gemma2-matrix-sliding-window', timeoutMs: 60_000,
      });
      assert.strictEqual(local.elements['.matrix-view'].attributes['data-window'], '8', 'layer 0 is a sliding-window layer of 8');
      assert.match(local.elements['.matrix-view .legend'].text, /blank: masked \(causal\) · flat gray: outside the sliding window of 8 keys/);
      assert.strictEqual(local.elements['.kv-group'].count, 2, 'heads 0–1 and 2–3 share a key/value head each');
      assert.match(local.elements['.kv-group'].attributes.title, /share key\/value head 0/);

      const global = await askPageFully({
        kind: 'webview', waitFor: '#app[data-state="done"]',
        steps: [{ evaluate: pickLayer(1), name: 'layer1' }, { waitFor: '#app:not([data-loading]) .matrix-view:not([data-window]) .legend' }],
        read: ['.matrix-view .legend'], timeoutMs: 60_000,
      });
      assert.doesNotMatch(global.elements['.matrix-view .legend'].text, /sliding window/, 'layer 1 attends globally: no band');

      const steps = await askPageFully({
        kind: 'webview', waitFor: '#app[data-state="done"]',
        steps: [{ evaluate: pickLayer(0), name: 'back' }, { click: '#tab-computation' }, { waitFor: '.cv-stage[data-stage="softCap"]' }],
        read: ['.cv-stage[data-stage="scale"]', '.cv-stage[data-stage="softCap"]', '.cv-stage[data-stage="mask"]', '.cv-table thead', '.formula'],
        screenshot: 'gemma2-step-by-step', timeoutMs: 60_000,
      });
      const text = (selector: string) => steps.elements[selector].text;
      assert.match(text('.cv-stage[data-stage="scale"]'), /1\/√query_pre_attn_scalar = 1\/√24, not 1\/√head_dim/);
      assert.match(text('.cv-stage[data-stage="softCap"]'), /50·tanh\(s \/ 50\), before the mask/);
      assert.match(text('.cv-stage[data-stage="mask"]'), /sliding window of 8/);
      assert.match(text('.cv-table thead'), /50·tanh/);
      assert.match(text('.formula'), /^softmax\(50·tanh\(QKᵀ · 0\.2041 \/ 50\) \+ M\) · V$/);

      const model = await askPageFully({
        kind: 'webview', waitFor: '#app[data-state="done"]', steps: [{ click: '#tab-model' }, { waitFor: '.mv-kv' }],
        read: ['.mv-kv'], timeoutMs: 60_000,
      });
      assert.strictEqual(model.elements['.mv-kv'].count, 2);
      assert.strictEqual(model.elements['.mv-kv'].text, 'kv head 0');
    } finally {
      await restore();
    }
  });

  it('gptneox-tiny-random: RoPE turns the first 4 of each head\'s 16 dimensions, the rest pass', async function () {
    this.timeout(120_000);
    const restore = await setSettings({ model: path.join(MODELS, 'gptneox-tiny-random') });
    try {
      await showSelectedText(TEXT);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      skipWithoutPageBridge(this);
      const { elements } = await askPageFully({
        kind: 'webview', waitFor: '#app[data-state="done"]',
        steps: [{ click: '#tab-computation' }, { waitFor: '.cv-stage[data-stage="rope"]' }],
        read: ['.cv-stage[data-stage="rope"]', '.cv-stage[data-stage="softCap"]', '.kv-group'], screenshot: 'gptneox-step-by-step', timeoutMs: 60_000,
      });
      assert.match(elements['.cv-stage[data-stage="rope"]'].text, /rotates dimensions 0–3 of 16 \(the other 12 pass unchanged\)/);
      assert.strictEqual(elements['.cv-stage[data-stage="softCap"]'].count, 0, 'no soft-cap stage where the model has none');
      assert.strictEqual(elements['.kv-group'].count, 0, 'every head has its own key/value head');
    } finally {
      await restore();
    }
  });
});
