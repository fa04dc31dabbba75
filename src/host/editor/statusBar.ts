/**
 * The status bar entry of the newest run: model · backend (the GPU adapter, or "CPU — why not the GPU")
 * · tokens · milliseconds. Clicking it opens Choose Model…; its tooltip has the timings in full.
 */
import * as vscode from 'vscode';
import type { BackendReport } from '../../protocol/run';
import { CommandId } from '../commandIds';

/** The backend as the status bar names it; the full reason is in the tooltip. */
export function backendLabel(backend: BackendReport): string {
  if (backend.used === 'webgpu') return backend.adapter;
  return backend.fallbackReason ? `CPU — ${backend.fallbackReason}` : backend.adapter;
}

const MAX_LABEL = 48;

function shorten(text: string): string {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('attentionInspector.status', vscode.StatusBarAlignment.Right, 100);
  private parts: { model: string; backend?: BackendReport; tokens?: string } = { model: '' };

  constructor() {
    this.item.name = vscode.l10n.t('Attention Inspector');
    this.item.command = CommandId.ChooseModel;
  }

  /** The full text, for tests and logs. */
  get text(): string {
    return this.item.text;
  }

  running(model: string): void {
    this.parts = { model };
    this.show('$(loading~spin)', [model, vscode.l10n.t('running…')], vscode.l10n.t('Computing attention with {0}', model));
  }

  started(model: string, backend: BackendReport, sourceTokens: number, targetTokens?: number): void {
    const tokens = targetTokens === undefined
      ? vscode.l10n.t('{0} tokens', sourceTokens)
      : vscode.l10n.t('{0} → {1} tokens', sourceTokens, targetTokens);
    this.parts = { model, backend, tokens };
    this.show('$(loading~spin)', [model, shorten(backendLabel(backend)), tokens], backendLabel(backend));
  }

  finished(milliseconds: number, timings: { tokenizeMs: number; firstLayerMs: number; forwardMs: number }, generated?: number): void {
    const { model, backend } = this.parts;
    const tokens = generated === undefined ? this.parts.tokens : `${this.parts.tokens} + ${vscode.l10n.t('{0} generated', generated)}`;
    const tooltip = [
      backend ? backendLabel(backend) : '',
      vscode.l10n.t('tokenize {0} ms, first layer {1} ms, all layers {2} ms', timings.tokenizeMs.toFixed(0), timings.firstLayerMs.toFixed(0), timings.forwardMs.toFixed(0)),
    ].filter(Boolean).join('\n');
    this.show('$(pulse)', [model, backend ? shorten(backendLabel(backend)) : '', tokens ?? '', vscode.l10n.t('{0} ms', milliseconds.toFixed(0))], tooltip);
  }

  ended(why: string): void {
    this.show('$(circle-slash)', [this.parts.model, why], why);
  }

  private show(icon: string, parts: readonly string[], tooltip: string): void {
    this.item.text = `${icon} ${parts.filter(Boolean).join(' · ')}`;
    this.item.tooltip = tooltip;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
