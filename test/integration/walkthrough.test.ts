import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { assertDone, hoverMarkdown, inspectorApi, positionOf, runCommand } from './editorHelpers';
import { EXTENSION_ID, closeAllEditors } from './workbench';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown: string };
}

/** The walkthrough's steps with their %key% strings resolved from package.nls.json. */
function steps(): Step[] {
  const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
  const root = extension.extensionPath;
  const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const raw = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { walkthroughs: { steps: Step[] }[] } };
  const resolve = (s: string) => s.replace(/^%(.+)%$/, (_, key: string) => nls[key]);
  return raw.contributes.walkthroughs[0].steps.map((s) => ({ ...s, title: resolve(s.title), description: resolve(s.description) }));
}

/** `command:<id>?<args>` links of a step's description. */
function links(description: string): { command: string; args: unknown[] }[] {
  return [...description.matchAll(/\(command:([\w.]+)(?:\?([^)]+))?\)/g)].map((m) => ({ command: m[1], args: m[2] ? (JSON.parse(decodeURIComponent(m[2])) as unknown[]) : [] }));
}

describe('Learning walkthrough: the tutorial\'s examples on the demo model, offline', () => {
  afterEach(async () => {
    const api = await inspectorApi();
    if (api.overlay().enabled) await vscode.commands.executeCommand('attentionInspector.toggleHeatOverlay');
    await closeAllEditors();
  });

  it('every step has its media and links to registered commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const registered = new Set(await vscode.commands.getCommands(true));
    const all = steps();
    assert.deepStrictEqual(all.map((s) => s.id), ['selfAttention', 'maskedSelfAttention', 'crossAttention', 'heads', 'coreference', 'realModel']);
    for (const step of all) {
      assert.ok(fs.existsSync(path.join(extension.extensionPath, step.media.markdown)), `${step.id}: ${step.media.markdown}`);
      const stepLinks = links(step.description);
      assert.ok(stepLinks.length > 0, `${step.id} has a command link`);
      for (const link of stepLinks) assert.ok(registered.has(link.command), `${step.id}: ${link.command} is registered`);
    }
  });

  it('runs each example step\'s link exactly as the walkthrough does', async () => {
    const api = await inspectorApi();
    const expected: Record<string, { model: string; tokens: number; stacks: string[] }> = {
      selfAttention: { model: 'demo', tokens: 27, stacks: ['self'] },
      maskedSelfAttention: { model: 'demo-causal', tokens: 5, stacks: ['self'] },
      crossAttention: { model: 'demo', tokens: 5, stacks: ['encoder', 'decoder', 'cross'] },
      heads: { model: 'demo', tokens: 5, stacks: ['self'] },
      coreference: { model: 'demo', tokens: 11, stacks: ['self'] },
    };
    for (const step of steps().filter((s) => s.id in expected)) {
      const [link] = links(step.description);
      assert.strictEqual(link.command, 'attentionInspector.tryExample');
      const outcome = await runCommand(link.command, ...link.args);
      assertDone(outcome);
      const want = expected[step.id];
      assert.deepStrictEqual({ model: outcome.model, tokens: outcome.tokens, stacks: outcome.stacks }, want, step.id);
      const editor = vscode.window.activeTextEditor!;
      if (step.id === 'selfAttention' || step.id === 'coreference') {
        const word = step.id === 'selfAttention' ? '他' : 'it';
        const painted = api.overlay().painted;
        assert.ok(painted && painted.spans.length > 0, `${step.id}: the overlay paints what "${word}" attends to`);
        assert.deepStrictEqual(editor.selection.active, positionOf(editor.document, step.id === 'selfAttention' ? '他' : ' it ', step.id === 'selfAttention' ? 0 : 1));
      }
      if (step.id === 'maskedSelfAttention') {
        // Masked: the first token attends only to itself.
        const first = await hoverMarkdown(editor.document, positionOf(editor.document, '我'));
        assert.match(first, /\| 我 \(0\) \| 1\.000 \|/);
      }
      assert.strictEqual(editor.document.uri.scheme, 'attention-example', 'a read-only example document');
    }
    const untitled = vscode.workspace.textDocuments.filter((d) => d.isUntitled || d.isDirty);
    assert.deepStrictEqual(untitled.map((d) => d.uri.toString()), [], 'no unsaved editors left behind');
    const exampleTabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'attention-example');
    assert.strictEqual(exampleTabs.length, 1, `the examples share one preview tab: ${exampleTabs.map((t) => t.label).join(', ')}`);
  });
});
