/**
 * The status bar entry: the model the next run uses (after Choose Model), then the newest run's model ·
 * backend (short: the GPU's name, or CPU) · tokens · milliseconds. Clicking it opens Choose Model…;
 * its tooltip has what is too long for the bar: why that backend, and the timings.
 */
import * as vscode from 'vscode';
import type { BackendReport } from '../../protocol/run';
import { backendSummary } from '../../view-model/backendSummary';
import { CommandId } from '../commandIds';

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

  /** A model was chosen: the next run uses it (the previous run's numbers no longer describe it). */
  modelChosen(model: string): void {
    this.parts = { model };
    this.show('$(symbol-misc)', [model, vscode.l10n.t('ready')], vscode.l10n.t('The next inspection uses {0}. Select text and run Attention: Inspect Selection.', model));
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
    const summary = backendSummary(backend);
    this.show('$(loading~spin)', [model, summary.label, tokens], summary.detail);
  }

  finished(milliseconds: number, timings: { tokenizeMs: number; firstLayerMs: number; forwardMs: number }, generated?: number): void {
    const { model, backend } = this.parts;
    const tokens = generated === undefined ? this.parts.tokens : `${this.parts.tokens} + ${vscode.l10n.t('{0} generated', generated)}`;
    const summary = backend && backendSummary(backend);
    const tooltip = [
      summary?.detail ?? '',
      vscode.l10n.t('tokenize {0} ms, first layer {1} ms, all layers {2} ms', timings.tokenizeMs.toFixed(0), timings.firstLayerMs.toFixed(0), timings.forwardMs.toFixed(0)),
    ].filter(Boolean).join('\n');
    this.show('$(pulse)', [model, summary?.label ?? '', tokens ?? '', vscode.l10n.t('{0} ms', milliseconds.toFixed(0))], tooltip);
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
