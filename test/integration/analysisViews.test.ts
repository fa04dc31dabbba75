import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LLAMA, assertDone, inspectorApi, runCommand, setSettings } from './editorHelpers';
import { askPageFully, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play with her red ball in the park.';
const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** The heads' induction scores as `attention-inspector analyze` computes them: the recipe's own run, in its own process. */
function analyzedInduction(): (number | null)[][] {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ai-induction-')), 'analysis.json');
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--model', LLAMA, '--text', STORY, '--backend', 'cpu', '--json', json], {
    encoding: 'utf8', env: { ...process.env, ATTENTION_INSPECTOR_NO_WEBGPU: '1', ELECTRON_RUN_AS_NODE: '1' },
  });
  assert.strictEqual(r.status, 0, `analyze failed: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(json, 'utf8')).heads.self.induction;
}

/** The first row of the Heads view's ranking and the size of its grid. */
const TOP_ROW = `(doc) => {
  const row = doc.querySelector('.hs-rank tbody tr');
  return { head: row.querySelector('.hs-open').textContent, value: Number(row.querySelector('.hs-value').textContent), cells: doc.querySelectorAll('.hs-cell').length };
}`;

/** What the Head view shows once a head was opened from the Heads view. */
const HEAD_VIEW = `(doc) => ({
  selected: doc.getElementById('tab-head').getAttribute('aria-selected'),
  pressed: [...doc.querySelectorAll('.head-swatch')].map((s) => s.getAttribute('aria-pressed') === 'true'),
  layer: doc.querySelector('select[aria-label="Layer"]').value,
  tokens: doc.querySelectorAll('.hv-token[data-side="query"]').length,
})`;

describe('Heads view: the top induction head opens in the Head view', () => {
  afterEach(closeAllEditors);

  it('llama-stories260K: the Heads view ranks the induction heads as analyze does; clicking the top one shows it alone', async function () {
    this.timeout(180_000);
    const restore = await setSettings({ model: LLAMA });
    try {
      await showSelectedText(STORY);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      skipWithoutPageBridge(this);
      const scores = analyzedInduction();
      let top = { layer: -1, head: -1, value: -Infinity };
      scores.forEach((heads, layer) => heads.forEach((value, head) => value !== null && value > top.value && (top = { layer, head, value })));

      const { values } = await askPageFully({
        kind: 'webview',
        waitFor: '#app[data-state="done"]:not([data-loading])',
        steps: [
          { click: '#tab-heads' },
          // The induction recipe runs on the engine when the view first asks for it.
          { waitFor: '.heads-view[data-score="induction"] .hs-rank tbody tr' },
          { evaluate: TOP_ROW, name: 'top' },
          { click: '.hs-rank tbody tr:first-child .hs-open' },
          { waitFor: '#tab-head[aria-selected="true"]' },
          { waitFor: '#app:not([data-loading]) .hv-token[data-side="query"]' },
          { evaluate: HEAD_VIEW, name: 'head' },
        ],
        read: ['.hv-summary'],
        screenshot: 'heads-view-top-induction-head',
        timeoutMs: 90_000,
      });
      const shown = values.top as { head: string; value: number; cells: number };
      assert.strictEqual(shown.cells, 5 * 8, 'one cell per layer and head');
      assert.strictEqual(shown.head, `L${top.layer}H${top.head}`, `the top induction head (analyze: L${top.layer}H${top.head} ${top.value})`);
      assert.ok(Math.abs(shown.value - top.value) <= 1e-3, `its score ${shown.value}, analyze ${top.value}`);

      const head = values.head as { selected: string; pressed: boolean[]; layer: string; tokens: number };
      assert.strictEqual(head.selected, 'true', 'the Head view is shown');
      assert.deepStrictEqual(head.pressed, Array.from({ length: 8 }, (_, h) => h === top.head), 'only that head is on');
      assert.strictEqual(head.layer, String(top.layer), 'in its layer');
      assert.ok(head.tokens > 20, `the Head view draws the run's tokens (${head.tokens})`);

      // The host hears of it too: hovers and the overlay now read that layer and head.
      const api = await inspectorApi();
      for (let waited = 0; api.panelSelection()?.heads.join() !== String(top.head) && waited < 5000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      const selection = api.panelSelection();
      assert.deepStrictEqual([selection?.layer, selection?.heads, selection?.aggregate], [top.layer, [top.head], 'none']);
    } finally {
      await restore();
    }
  });
});
