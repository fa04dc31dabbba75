/**
 * "Attention: Generate and Step Through…": asks how many tokens to generate after the selection
 * (1…512, default 20) and runs it like every inspection (the InspectionRunner: status, progress,
 * cancel, limits, hovers): the engine decodes greedily and streams every step into the panel — each
 * step's layers, then its token — where a stepper walks through what each generated token attended to.
 * The built-in demo cannot generate: the engine says so, and the panel and a notice show it.
 */
import * as vscode from 'vscode';
import { MAX_NEW_TOKENS } from '../../engine/generate';
import { CommandId } from '../commandIds';
import type { Notifier } from '../notify';
import type { InspectionRunner, RunOutcome } from '../runs/inspectionRunner';
import { selectedEditor } from './inspectSelection';

const DEFAULT_NEW_TOKENS = 20;

/** The optional argument skips the input box (tests, keybindings): the number of tokens to generate. */
export function registerGenerateAndStep(runner: InspectionRunner, notifier: Notifier): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.GenerateAndStep, (count?: number) => generateAndStep(runner, notifier, count));
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

async function generateAndStep(runner: InspectionRunner, notifier: Notifier, count: number | undefined): Promise<RunOutcome> {
  const editor = selectedEditor(notifier, vscode.l10n.t('Attention: Generate and Step Through…'));
  if (!('document' in editor)) return editor;
  if (count !== undefined && validCount(String(count))) return { status: 'failed', notice: notifier.error(validCount(String(count))!) };
  const maxNewTokens = count ?? (await askCount());
  if (maxNewTokens === undefined) return { status: 'cancelled' };
  return runner.run({ document: editor.document, source: editor.selection, generate: maxNewTokens });
}
