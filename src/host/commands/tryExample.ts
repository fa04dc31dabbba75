/**
 * The learning walkthrough's "run this example": opens the attention tutorial's example as a read-only
 * document (scheme attention-example, in the preview tab, so trying examples leaves neither unsaved
 * Untitled editors nor a pile of tabs behind), selects it, and runs the right command on the built-in demo model (whatever the model
 * setting says), so every step works offline. Examples that ask about one word put the cursor on it,
 * turn the heat overlay on and point the panel at it.
 */
import * as vscode from 'vscode';
import type { DemoModelName } from '../../engine/demo/demoModel';
import type { HeatOverlay } from '../editor/heatOverlay';
import type { InspectionRunner, RunOutcome } from '../runs/inspectionRunner';
import { tokenAt, type InspectionStore } from '../editor/inspections';
import type { Notifier } from '../notify';
import { AttentionPanel } from '../panel/attentionPanel';
import { CommandId } from '../commandIds';

interface Example {
  readonly text: string;
  readonly model: DemoModelName;
  /** Cross-attention: the source and target, each a substring of `text`. */
  readonly cross?: { readonly source: string; readonly target: string };
  /** The word whose attention the step asks about. */
  readonly focus?: RegExp;
}

const EXAMPLES = {
  selfAttention: { text: '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。', model: 'demo', focus: /他/ },
  maskedSelfAttention: { text: '我爱吃苹果', model: 'demo-causal' },
  crossAttention: { text: '那天雨很大\nIt rained heavily that day', model: 'demo', cross: { source: '那天雨很大', target: 'It rained heavily that day' } },
  heads: { text: 'I Love Nature Language Processing', model: 'demo' },
  coreference: { text: "The animal didn't cross the street because it was too tired", model: 'demo', focus: /\bit\b/ },
} satisfies Record<string, Example>;

export interface TryExampleDeps {
  readonly runner: InspectionRunner;
  readonly inspections: InspectionStore;
  readonly overlay: HeatOverlay;
  readonly notifier: Notifier;
}

/** The URI scheme of the examples' read-only documents. */
const EXAMPLE_SCHEME = 'attention-example';

function exampleUri(id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: EXAMPLE_SCHEME, path: `/${id}.txt` });
}

export function registerTryExample(deps: TryExampleDeps): vscode.Disposable {
  const examples: Record<string, Example> = EXAMPLES;
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(EXAMPLE_SCHEME, {
      provideTextDocumentContent: (uri) => examples[uri.path.replace(/^\/|\.txt$/g, '')]?.text ?? '',
    }),
    vscode.commands.registerCommand(CommandId.TryExample, async (id?: string) => {
      const chosen = id ?? (await pickExample());
      return chosen === undefined ? { status: 'cancelled' } : tryExample(deps, chosen);
    }),
  );
}

async function pickExample(): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(
    Object.entries(EXAMPLES).map(([id, example]: [string, Example]) => ({ id, label: example.text.replace(/\n/g, ' → '), description: example.model })),
    { title: vscode.l10n.t('Attention: Try a Tutorial Example') },
  );
  return picked?.id;
}

async function tryExample(deps: TryExampleDeps, id: string): Promise<RunOutcome> {
  const example: Example | undefined = (EXAMPLES as Record<string, Example>)[id];
  if (!example) {
    return { status: 'failed', notice: deps.notifier.error(vscode.l10n.t('There is no example "{0}"; the examples are: {1}.', String(id), Object.keys(EXAMPLES).join(', '))) };
  }
  const document = await vscode.workspace.openTextDocument(exampleUri(id));
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: true });
  const rangeOf = (part: string) => {
    const start = example.text.indexOf(part);
    return new vscode.Selection(document.positionAt(start), document.positionAt(start + part.length));
  };
  let outcome: RunOutcome;
  if (example.cross) {
    editor.selections = [rangeOf(example.cross.source), rangeOf(example.cross.target)];
    outcome = await deps.runner.run({ document, source: editor.selections[0], target: { kind: 'range', range: editor.selections[1] }, model: example.model });
  } else {
    editor.selection = rangeOf(example.text);
    outcome = await deps.runner.run({ document, source: editor.selection, model: example.model });
  }
  if (outcome.status === 'done' && example.focus) focusWord(deps, editor, example.focus);
  void vscode.commands.executeCommand('setContext', `attentionInspector.tried.${id}`, true); // completes the walkthrough step
  return outcome;
}

/** Puts the cursor on the word, paints its attention and points the panel at its token. */
function focusWord(deps: TryExampleDeps, editor: vscode.TextEditor, word: RegExp): void {
  const offset = editor.document.getText().search(word);
  const position = editor.document.positionAt(offset);
  editor.selection = new vscode.Selection(position, position);
  deps.overlay.setEnabled(true);
  const found = deps.inspections.of(editor.document);
  const hit = found && tokenAt(found.inspection, found.run, offset);
  if (hit && hit.part === 'source') AttentionPanel.current?.reveal({ stack: 'self', layer: 0, token: hit.index });
}
