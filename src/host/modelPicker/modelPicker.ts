/**
 * Choose Model…: one quick pick with the built-in demo models, the models already in the Hugging Face
 * cache, "Open a folder…" and "Download from the Hugging Face Hub…". A folder is checked (config.json,
 * safetensors headers) before it is saved; the choice goes to the `attentionInspector.model` setting.
 */
import * as vscode from 'vscode';
import { showError } from '../errorText';
import { hubCacheDir, listCachedModels } from '../../engine/hub';
import { readSettings } from '../settings';
import type { Notice, Notifier } from '../notify';
import { downloadFromHub } from './hubDownload';
import type { DemoModelName } from '../../engine/demo/demoModel';
import { validateModelFolder } from './modelSource';
import { saveModelSetting, type SavedIn } from './modelSetting';

/** A choice made without the quick pick (tests, the walkthrough, links). */
export type ModelChoice =
  | { readonly kind: 'builtIn'; readonly name: DemoModelName }
  | { readonly kind: 'folder'; readonly path?: string }
  | { readonly kind: 'cached'; readonly spec: string }
  | { readonly kind: 'download'; readonly spec?: string };

export type ChooseOutcome =
  | { readonly status: 'chosen'; readonly model: string; readonly savedIn: SavedIn; readonly notice: Notice }
  | { readonly status: 'cancelled'; readonly notice?: Notice }
  | { readonly status: 'failed'; readonly notice: Notice };

interface ChoiceItem extends vscode.QuickPickItem {
  readonly choice?: ModelChoice;
}

export class ModelPicker implements vscode.Disposable {
  private readonly shown = new vscode.EventEmitter<readonly string[]>();
  /** Fires with the labels of the rows (separators left out), in order, once the quick pick is shown: tests drive it with the workbench's quick-open commands. */
  readonly onDidShow = this.shown.event;

  constructor(private readonly notifier: Notifier) {}

  async choose(given?: ModelChoice): Promise<ChooseOutcome> {
    const choice = given ?? (await this.pick());
    if (!choice) return { status: 'cancelled' };
    switch (choice.kind) {
      case 'builtIn':
        return this.save(choice.name, choice.name);
      case 'cached':
        return this.save(choice.spec, choice.spec);
      case 'folder': {
        const folder = choice.path ?? (await askFolder());
        if (!folder) return { status: 'cancelled' };
        try {
          validateModelFolder(folder);
        } catch (err) {
          return { status: 'failed', notice: showError(this.notifier, err) };
        }
        return this.save(folder, folder);
      }
      case 'download': {
        const downloaded = await downloadFromHub(this.notifier, choice.spec);
        if (downloaded.status !== 'downloaded') return downloaded;
        return this.save(downloaded.spec, vscode.l10n.t('{0} (downloaded to {1})', downloaded.spec, downloaded.result.snapshotPath));
      }
    }
  }

  private async save(model: string, description: string): Promise<ChooseOutcome> {
    const savedIn = await saveModelSetting(model);
    const where = savedIn === 'user' ? vscode.l10n.t('user settings') : vscode.l10n.t('workspace settings');
    return { status: 'chosen', model, savedIn, notice: this.notifier.info(vscode.l10n.t('Model: {0}. Saved in the {1}.', description, where)) };
  }

  private pick(): Promise<ModelChoice | undefined> {
    const current = readSettings().model;
    const mark = (model: string) => (model === current ? vscode.l10n.t('current') : undefined);
    const cacheDir = hubCacheDir();
    const cached = listCachedModels(cacheDir);
    const items: ChoiceItem[] = [
      { label: vscode.l10n.t('Built-in'), kind: vscode.QuickPickItemKind.Separator },
      { label: '$(mortar-board) demo', description: mark('demo'), detail: vscode.l10n.t('The attention tutorial\'s model: self-attention and cross-attention, 8 heads, untrained'), choice: { kind: 'builtIn', name: 'demo' } },
      { label: '$(mortar-board) demo-causal', description: mark('demo-causal'), detail: vscode.l10n.t('The same with masked (causal) self-attention'), choice: { kind: 'builtIn', name: 'demo-causal' } },
      { label: vscode.l10n.t('Hugging Face cache'), kind: vscode.QuickPickItemKind.Separator },
      ...cached.map((m): ChoiceItem => ({
        label: `$(database) ${m.spec}`, description: mark(m.spec), detail: m.folder, choice: { kind: 'cached', spec: m.spec },
      })),
      ...(cached.length ? [] : [{ label: vscode.l10n.t('No complete model in {0}', cacheDir) }]),
      { label: vscode.l10n.t('More'), kind: vscode.QuickPickItemKind.Separator },
      { label: `$(folder-opened) ${vscode.l10n.t('Open a folder…')}`, detail: vscode.l10n.t('A Hugging Face model folder: config.json, safetensors weights, tokenizer.json'), choice: { kind: 'folder' } },
      { label: `$(cloud-download) ${vscode.l10n.t('Download from the Hugging Face Hub…')}`, detail: vscode.l10n.t('Into the Hugging Face cache; only when you choose this'), choice: { kind: 'download' } },
    ];
    const quickPick = vscode.window.createQuickPick<ChoiceItem>();
    quickPick.title = vscode.l10n.t('Attention: Choose Model');
    quickPick.placeholder = vscode.l10n.t('The model whose attention to inspect (now: {0})', current);
    quickPick.matchOnDetail = true;
    quickPick.items = items;
    quickPick.activeItems = items.filter((i) => i.choice).slice(0, 1);
    return new Promise((resolve) => {
      quickPick.onDidAccept(() => {
        const choice = quickPick.activeItems[0]?.choice;
        if (!choice) return; // an information row: keep the pick open
        resolve(choice);
        quickPick.hide();
      });
      quickPick.onDidHide(() => {
        resolve(undefined);
        quickPick.dispose();
      });
      quickPick.show();
      this.shown.fire(items.filter((i) => i.kind !== vscode.QuickPickItemKind.Separator).map((i) => i.label));
    });
  }

  dispose(): void {
    this.shown.dispose();
  }
}

async function askFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false, canSelectFolders: true, canSelectMany: false,
    title: vscode.l10n.t('Choose a Hugging Face model folder'),
    openLabel: vscode.l10n.t('Use This Model'),
  });
  return picked?.[0]?.fsPath;
}
