import * as assert from 'assert';
import * as vscode from 'vscode';
import { assertDone, runCommand, setSettings } from './editorHelpers';
import { askPageFully, skipWithoutPageBridge } from './pageBridge';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

const TUTORIAL = '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。';
const TOKENS_WALKED = 20;

/** Run in the webview before the walk: counts window errors (a ResizeObserver loop is reported as one). */
const COUNT_ERRORS = `(doc) => {
  const win = doc.defaultView;
  win.__pointerWalk = { errors: [] };
  win.addEventListener('error', (e) => win.__pointerWalk.errors.push(String(e.message)));
  return true;
}`;

/** Where token `i` of the query column is before the pointer moves there. */
const before = (i: number) => `(doc) => {
  const token = doc.querySelector('.hv-token.token[data-index="${i}"]');
  const box = token.getBoundingClientRect();
  doc.defaultView.__pointerWalk.at = { x: box.left + box.width / 2, y: box.top + box.height / 2, top: box.top };
  return box.top;
}`;

/** After the pointer rests on token `i`: what is focused, what is under the pointer, how far token `i` moved. */
const after = (i: number) => `(doc) => {
  const at = doc.defaultView.__pointerWalk.at;
  const focused = doc.querySelector('.hv-token.token.focused');
  const under = doc.elementFromPoint(at.x, at.y)?.closest('.hv-token');
  const token = doc.querySelector('.hv-token.token[data-index="${i}"]');
  return {
    focused: focused ? Number(focused.dataset.index) : null,
    under: under ? Number(under.dataset.index) : null,
    moved: token.getBoundingClientRect().top - at.top,
    errors: doc.defaultView.__pointerWalk.errors,
  };
}`;

interface WalkStep {
  focused: number | null;
  under: number | null;
  moved: number;
  errors: string[];
}

/** Makes the panel 340 px wide, as a side panel beside a wide editor is. */
const NARROW = `(doc) => {
  doc.getElementById('app').style.width = '340px';
  return true;
}`;

/** Anything that runs past the panel's right edge in the view shown: what a narrow panel used to clip. */
const OVERFLOW = `(doc) => {
  const view = doc.querySelector('#views > .view');
  const edge = doc.getElementById('app').getBoundingClientRect().right;
  const past = [...view.querySelectorAll('.hv-title, code, .formula, .cv-concat, .cv-controls')]
    .filter((e) => !e.closest('.cv-table-wrap')) // the table scrolls sideways on purpose
    .filter((e) => e.getBoundingClientRect().right > edge + 1)
    .map((e) => e.className + ': ' + e.textContent.slice(0, 40));
  return { past, scrolls: view.scrollWidth > view.clientWidth + 1 };
}`;

describe('Panel under the pointer: the layout never moves', () => {
  afterEach(closeAllEditors);

  it(`hovering ${TOKENS_WALKED} tokens of the head view in turn focuses the token under the pointer, and nothing shifts`, async function () {
    this.timeout(120_000);
    const restore = await setSettings({ model: 'demo' });
    try {
      await showSelectedText(TUTORIAL);
      assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
      skipWithoutPageBridge(this);
      const steps = Array.from({ length: TOKENS_WALKED }, (_, i) => [
        { evaluate: before(i), name: `before-${i}` },
        { hover: `.hv-token.token[data-index="${i}"]` },
        { pauseMs: 150 },
        { evaluate: after(i), name: `after-${i}` },
      ]).flat();
      const { values } = await askPageFully({
        kind: 'webview',
        waitFor: '#app[data-state="done"]:not([data-loading]) .hv-token.token[data-index="0"]',
        steps: [{ click: '#tab-head' }, { evaluate: COUNT_ERRORS, name: 'installed' }, ...steps],
        read: ['.hv-summary'],
        screenshot: 'pointer-walk-head-view',
        timeoutMs: 30_000,
      });
      for (let i = 0; i < TOKENS_WALKED; i++) {
        const step = values[`after-${i}`] as WalkStep;
        assert.strictEqual(step.focused, i, `token ${i}: the focus is on token ${step.focused}`);
        assert.strictEqual(step.under, i, `token ${i}: the pointer now rests on token ${step.under}`);
        assert.ok(Math.abs(step.moved) < 0.5, `token ${i} moved ${step.moved}px when hovered`);
      }
      const errors = (values[`after-${TOKENS_WALKED - 1}`] as WalkStep).errors;
      assert.deepStrictEqual(errors, [], 'no window errors (a ResizeObserver loop shows up here)');
      // 他 locked, the whole window: the picture at the top of the README (media/screenshot.png).
      const locked = await askPageFully({ kind: 'webview', waitFor: '#app', steps: [{ click: '.hv-token.token[data-index="6"]' }, { pauseMs: 200 }], read: ['.hv-token.token.locked'], timeoutMs: 30_000 });
      assert.strictEqual(locked.elements['.hv-token.token.locked'].text, '他');
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
      await askPageFully({ kind: 'webview', waitFor: '#app', steps: [{ hover: '.status' }, { pauseMs: 300 }], read: [], timeoutMs: 30_000 });
      await askPageFully({ kind: 'workbench', waitFor: '.monaco-workbench', read: [], screenshot: 'readme-workbench', timeoutMs: 30_000 });
    } finally {
      await restore();
    }
  });

  it('a one-layer run says "1 layer"; a cross-attention run opens on cross-attention; a narrow panel clips no heading or vector', async function () {
    this.timeout(120_000);
    assertDone(await runCommand('attentionInspector.tryExample', 'heads'));
    skipWithoutPageBridge(this);
    const { elements: one } = await askPageFully({ kind: 'webview', waitFor: '#app[data-state="done"][data-token-count="5"]', read: ['.status'], timeoutMs: 30_000 });
    assert.match(one['.status'].text, / · 1 layer · /);
    assert.doesNotMatch(one['.status'].text, /1 layers|1 heads/);

    assertDone(await runCommand('attentionInspector.tryExample', 'crossAttention'));
    const { values } = await askPageFully({
      kind: 'webview',
      waitFor: '#app[data-state="done"]:not([data-loading]) #views .hv-title',
      steps: [{ evaluate: `(doc) => doc.getElementById('tab-cross').getAttribute('aria-selected')`, name: 'crossTab' }, { evaluate: NARROW, name: 'narrow' }, { pauseMs: 300 }, { evaluate: OVERFLOW, name: 'cross' },
        { click: '#tab-computation' }, { waitFor: '#app:not([data-loading]) .computation-view .cv-output' }, { pauseMs: 300 }, { evaluate: OVERFLOW, name: 'computation' }],
      read: [],
      screenshot: 'narrow-panel-step-by-step',
      timeoutMs: 60_000,
    });
    assert.strictEqual(values.crossTab, 'true', 'the cross-attention run opened on the cross-attention view');
    for (const view of ['cross', 'computation']) {
      const found = values[view] as { past: string[]; scrolls: boolean };
      assert.deepStrictEqual(found.past, [], `${view}: runs past the panel's edge`);
      assert.strictEqual(found.scrolls, false, `${view}: the view scrolls sideways`);
    }
  });
});
