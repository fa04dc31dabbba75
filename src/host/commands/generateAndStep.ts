/**
 * "Attention: Generate and Step Through…": asks how many tokens to generate after the selection
 * (1…512, default 20), decodes them greedily in the engine worker and streams every step into the
 * panel — each step's layers, then its token — where a stepper walks through what each generated token
 * attended to. The built-in demo cannot generate: the engine says so, and the panel and a notice show it.
 */
import * as vscode from 'vscode';
import { errorText, showError } from '../errorText';
import { MAX_NEW_TOKENS } from '../../engine/generate';
import type { ModelInfo } from '../../protocol/run';
import type { EngineClient } from '../../engine/worker/engineClient';
import { readSettings } from '../settings';
import { resolveModel } from '../modelPicker/modelSource';
import type { Notice, Notifier } from '../notify';
import { AttentionPanel } from '../panel/attentionPanel';
import { failedMessage, finishedMessage, generatedTokenMessage, layerMessage, startedMessage } from '../../store/runMessages';
import { CommandId } from '../commandIds';
import { selectedEditor } from './inspectSelection';

const DEFAULT_NEW_TOKENS = 20;

export interface GenerateDeps {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.OutputChannel;
  readonly notifier: Notifier;
  /** The engine, started on first use. */
  engine(): Pick<EngineClient, 'inspect'>;
}

/** What the command returns (tests read it; users see the panel and the notices). */
export interface GenerateOutcome {
  readonly status: 'done' | 'cancelled' | 'superseded' | 'failed';
  readonly runId?: number;
  readonly generated?: number;
  readonly notice?: Notice;
}

/** The optional argument skips the input box (tests, keybindings): the number of tokens to generate. */
export function registerGenerateAndStep(deps: GenerateDeps): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.GenerateAndStep, (count?: number) => generateAndStep(deps, count));
}

function validCount(value: string): string | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= MAX_NEW_TOKENS ? undefined : vscode.l10n.t('Enter a whole number from 1 to {0}.', MAX_NEW_TOKENS);
}

async function askCount(): Promise<number | undefined> {
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Attention: Generate and Step Through'),
    prompt: vscode.l10n.t('How many tokens should the model generate after the selection? (1 to {0})', MAX_NEW_TOKENS),
    value: String(DEFAULT_NEW_TOKENS),
    validateInput: validCount,
  });
  return value === undefined ? undefined : Number(value);
}

async function generateAndStep(deps: GenerateDeps, count: number | undefined): Promise<GenerateOutcome> {
  const editor = selectedEditor(deps.notifier, vscode.l10n.t('Attention: Generate and Step Through…'));
  if (!('document' in editor)) return { status: 'failed', notice: editor.notice };
  if (count !== undefined && validCount(String(count))) return { status: 'failed', notice: deps.notifier.error(validCount(String(count))!) };
  const maxNewTokens = count ?? (await askCount());
  if (maxNewTokens === undefined) return { status: 'cancelled' };
  const { document } = editor;
  const text = document.getText(editor.selection);
  const settings = readSettings(document.uri);
  let model;
  try {
    model = resolveModel(settings.model, document);
  } catch (err) {
    return { status: 'failed', notice: showError(deps.notifier, err) };
  }

  const run = AttentionPanel.createOrShow(deps.extensionUri, deps.log).beginRun();
  let info: ModelInfo | undefined;
  let generated = 0;
  deps.log.appendLine(`run ${run.id}: generate ${maxNewTokens} tokens with ${model.path} on ${settings.backend} after ${text.length} characters`);
  try {
    const result = await deps.engine().inspect(
      { model: model.path, backend: settings.backend, input: { text, generate: maxNewTokens }, wants: { scores: true, headVectors: true } },
      {
        onStart: (s) => {
          info = s.model;
          run.post(startedMessage(run.id, s, { source: text }, { maxNewTokens }));
        },
        onEvent: (event) => {
          if (event.type === 'attention' && info) run.post(layerMessage(run.id, event, info));
        },
        onToken: (token) => {
          generated++;
          run.post(generatedTokenMessage(run.id, token));
        },
      },
      run.signal,
    );
    run.post(finishedMessage(run.id, result.timings));
    deps.log.appendLine(`run ${run.id}: generated ${JSON.stringify(result.generated?.tokens.join(' ') ?? '')} in ${result.timings.forwardMs.toFixed(0)} ms`);
    return { status: 'done', runId: run.id, generated };
  } catch (err) {
    if (run.signal.aborted) return { status: 'superseded', runId: run.id }; // a newer run, or the panel closed
    run.post(failedMessage(run.id, err, errorText(err)));
    deps.log.appendLine(`run ${run.id}: ${errorText(err)}`);
    return { status: 'failed', runId: run.id, generated, notice: showError(deps.notifier, err) };
  }
}
