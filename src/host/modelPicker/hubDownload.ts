/**
 * Download from the Hugging Face Hub, only on the user's explicit request: an id (org/name[@revision])
 * from an input box, then downloadModel with a cancellable progress notification (bytes and percent).
 * Offline mode (the setting, or HF_HUB_OFFLINE) refuses before asking anything.
 */
import * as vscode from 'vscode';
import { showError } from '../errorText';
import { readSettings } from '../settings';
import { isEngineError } from '../../engine/errors';
import { downloadModel, isOfflineByEnv, parseHubId, type DownloadResult } from '../../engine/hub';
import type { Notice, Notifier } from '../notify';

export type DownloadOutcome =
  | { readonly status: 'downloaded'; readonly result: DownloadResult; readonly spec: string }
  | { readonly status: 'cancelled'; readonly notice?: Notice }
  | { readonly status: 'failed'; readonly notice: Notice };

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Asks for the id unless given, downloads it into the Hugging Face cache, and says what happened. */
export async function downloadFromHub(notifier: Notifier, givenSpec?: string): Promise<DownloadOutcome> {
  const settings = readSettings();
  if (settings.offline || isOfflineByEnv(process.env)) {
    const why = settings.offline
      ? vscode.l10n.t('offline mode is on (attentionInspector.offline)')
      : vscode.l10n.t('HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set in the environment');
    const message = vscode.l10n.t('Cannot download: {0}. Turn it off to download, or choose a model folder or a model already in the Hugging Face cache.', why);
    const openSettings = { title: vscode.l10n.t('Open Settings'), run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'attentionInspector.offline') };
    return { status: 'failed', notice: settings.offline ? notifier.error(message, openSettings) : notifier.error(message) };
  }
  const spec = givenSpec ?? await vscode.window.showInputBox({
    title: vscode.l10n.t('Download a model from the Hugging Face Hub'),
    prompt: vscode.l10n.t('A model id, optionally with a revision: org/name or org/name@revision. Only config, tokenizer and safetensors files are fetched.'),
    placeHolder: 'HuggingFaceTB/SmolLM2-135M',
    ignoreFocusOut: true,
    validateInput: (value) => (parseHubId(value.trim()) ? undefined : vscode.l10n.t('Use org/name, optionally followed by @revision.')),
  });
  if (spec === undefined) return { status: 'cancelled' };
  const id = spec.trim();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading {0}', id), cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let shownPercent = 0;
        return downloadModel(id, {
          offline: settings.offline,
          signal: controller.signal,
          onProgress: (p) => {
            const percent = p.bytesTotal ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 0;
            const message = vscode.l10n.t('{0} — {1} of {2} ({3}%)', p.file, formatBytes(p.bytesDone), formatBytes(p.bytesTotal), percent);
            progress.report({ message, increment: percent - shownPercent });
            shownPercent = percent;
          },
        });
      },
    );
    return { status: 'downloaded', result, spec: id };
  } catch (err) {
    if (isEngineError(err) && err.code === 'CANCELLED') return { status: 'cancelled', notice: notifier.info(vscode.l10n.t('The download of {0} was cancelled; run it again to resume.', id)) };
    return { status: 'failed', notice: showError(notifier, err) };
  }
}
