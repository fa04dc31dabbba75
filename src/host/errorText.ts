/**
 * Engine errors worded for VS Code: the engine's fact, then each remedy in the editor's terms
 * (commands and settings, never CLI flags), and the buttons that carry the remedies out.
 */
import * as vscode from 'vscode';
import { EngineError, isEngineError, type Remedy } from '../engine/errors';
import { CommandId } from './commandIds';
import type { Notice, NoticeAction, Notifier } from './notify';

function remedyText(remedy: Remedy): string | undefined {
  switch (remedy) {
    case 'use-cpu':
      return vscode.l10n.t('Set attentionInspector.backend to "cpu" to run on the CPU.');
    case 'pass-ids':
      return undefined; // the editor inspects text only: choosing another model is the remedy
    case 'shorter-input':
      return vscode.l10n.t('Select less text.');
    case 'past-context':
      return vscode.l10n.t('Or turn on attentionInspector.pastContext to run this rotary model past its trained context.');
    case 'choose-model':
      return vscode.l10n.t('Choose another model: a folder with config.json, safetensors weights and tokenizer.json, a model from the Hugging Face cache, or the built-in demo.');
    case 'download-model':
      return vscode.l10n.t('Download it with "Attention: Download Model from Hugging Face".');
    case 'allow-downloads':
      return vscode.l10n.t('Turn the attentionInspector.offline setting off (and unset HF_HUB_OFFLINE) to download it.');
    case 'install-webgpu':
      return vscode.l10n.t('Install a Vulkan driver for WebGPU (without a GPU, Mesa 25 or newer with lavapipe works).');
    case 'retry':
      return vscode.l10n.t('Run it again.');
    case 'raise-memory-budget':
      return vscode.l10n.t('Raise the attentionInspector.memoryBudgetMB setting (0 allows half of the free memory).');
  }
}

function remedyAction(remedy: Remedy, err: EngineError): NoticeAction | undefined {
  const openSetting = (setting: string): NoticeAction => ({
    title: vscode.l10n.t('Open Settings'), run: () => vscode.commands.executeCommand('workbench.action.openSettings', setting),
  });
  switch (remedy) {
    case 'choose-model':
    case 'pass-ids':
      return { title: vscode.l10n.t('Choose Model…'), run: () => vscode.commands.executeCommand(CommandId.ChooseModel) };
    case 'download-model':
      return { title: vscode.l10n.t('Download'), run: () => vscode.commands.executeCommand(CommandId.DownloadModel, err.details.repoId) };
    case 'use-cpu':
      return openSetting('attentionInspector.backend');
    case 'allow-downloads':
      return openSetting('attentionInspector.offline');
    case 'raise-memory-budget':
      return openSetting('attentionInspector.memoryBudgetMB');
    case 'past-context':
      return openSetting('attentionInspector.pastContext');
    default:
      return undefined;
  }
}

/** The message a user reads: the engine's fact and the remedies, or the bug report for anything else. */
export function errorText(err: unknown): string {
  if (!isEngineError(err)) {
    return vscode.l10n.t('Attention Inspector failed: {0}', err instanceof Error ? err.message : String(err));
  }
  const remedies = err.remedies.map(remedyText).filter((t): t is string => t !== undefined);
  return [err.message, ...remedies].join(' ');
}

/** Shows an error with a button per remedy that one can carry out (each button once). */
export function showError(notifier: Notifier, err: unknown): Notice {
  const actions = isEngineError(err) ? err.remedies.map((r) => remedyAction(r, err)).filter((a): a is NoticeAction => a !== undefined) : [];
  const unique = actions.filter((a, i) => actions.findIndex((b) => b.title === a.title) === i);
  return notifier.error(errorText(err), ...unique);
}
