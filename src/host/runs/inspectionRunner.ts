/**
 * One inspection of document text, shared by every command that runs the model: resolve the model,
 * stream the engine worker's layers into the panel, record where the tokens are in the document (for
 * hovers and the heat overlay), keep the status bar and the output channel current, show a cancellable
 * progress notification for runs over 300 ms, and offer to truncate a selection above maxTokens.
 */
import * as vscode from 'vscode';
import { errorText, showError } from '../errorText';
import { isEngineError } from '../../engine/errors';
import type { TokenizedText } from '../../protocol/run';
import type { ModelInfo } from '../../protocol/run';
import type { EngineClient, InspectRequest, InspectStarted } from '../../engine/worker/engineClient';
import { resolveModel, type ResolvedModel } from '../modelPicker/modelSource';
import type { Notice, Notifier } from '../notify';
import { AttentionPanel, type PanelRun } from '../panel/attentionPanel';
import type { AttentionStack } from '../../protocol/messages';
import { failedMessage, finishedMessage, layerMessage, startedMessage } from '../../store/runMessages';
import { delayedProgress } from '../editor/delayedProgress';
import type { InspectionStore } from '../editor/inspections';
import { truncationEnd } from '../editor/ranges';
import { readSettings } from '../settings';
import type { RunStatusBar } from '../editor/statusBar';

export type InspectionTarget =
  | { readonly kind: 'range'; readonly range: vscode.Range }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'generate'; readonly maxTokens: number };

export interface InspectionRequest {
  readonly document: vscode.TextDocument;
  readonly source: vscode.Range;
  /** Cross-attention: the decoder's text (selected, typed or generated). */
  readonly target?: InspectionTarget;
  /** Instead of the model setting (the walkthrough's examples run the demo). */
  readonly model?: string;
}

/** What a command returns: tests read it, users see the notices and the panel. */
export interface RunOutcome {
  readonly status: 'done' | 'cancelled' | 'superseded' | 'failed' | 'too-many-tokens';
  readonly runId?: number;
  readonly model?: string;
  readonly tokens?: number;
  readonly targetTokens?: number;
  readonly stacks?: readonly AttentionStack[];
  /** The message shown for a failure, cancellation or truncation offer (with its actions). */
  readonly notice?: Notice;
}

export interface RunStart {
  readonly runId: number;
  readonly model: string;
  readonly tokens: number;
  readonly targetTokens?: number;
}

export interface RunnerDeps {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.OutputChannel;
  readonly notifier: Notifier;
  readonly inspections: InspectionStore;
  readonly status: RunStatusBar;
  /** The engine, started on first use. */
  engine(): Pick<EngineClient, 'inspect'>;
}

const RUNNING_CONTEXT = 'attentionInspector.running';

interface TooMany {
  readonly part: 'source' | 'target';
  readonly tokens: TokenizedText;
  readonly limit: number;
}

export class InspectionRunner implements vscode.Disposable {
  private active: { stop(reason: 'user' | 'too-many'): void } | undefined;
  private readonly startedRun = new vscode.EventEmitter<RunStart>();
  /** Fires when a run's tokens are known and its layers start streaming into the panel. */
  readonly onDidStartRun = this.startedRun.event;
  private readonly ended = new vscode.EventEmitter<RunOutcome>();
  /** Fires once per run with its outcome. */
  readonly onDidEndRun = this.ended.event;

  constructor(private readonly deps: RunnerDeps) {}

  dispose(): void {
    this.startedRun.dispose();
    this.ended.dispose();
  }

  /** Cancels the running inspection, as its progress notification's Cancel does; false when none runs. */
  cancel(): boolean {
    if (!this.active) return false;
    this.active.stop('user');
    return true;
  }

  async run(request: InspectionRequest): Promise<RunOutcome> {
    const outcome = await this.runOnce(request);
    this.ended.fire(outcome);
    return outcome;
  }

  private async runOnce(request: InspectionRequest): Promise<RunOutcome> {
    const { deps } = this;
    const { document } = request;
    const settings = readSettings(document.uri);
    let model: ResolvedModel;
    try {
      model = resolveModel(request.model ?? settings.model, document);
    } catch (err) {
      return { status: 'failed', notice: showError(deps.notifier, err) };
    }
    const sourceText = document.getText(request.source);
    const target = request.target;
    const targetText = target?.kind === 'range' ? document.getText(target.range) : target?.kind === 'text' ? target.text : undefined;

    const panelRun = AttentionPanel.createOrShow(deps.extensionUri, deps.log).beginRun();
    const controller = new AbortController();
    let stopReason: 'user' | 'too-many' | undefined;
    const stop = (reason: 'user' | 'too-many') => {
      stopReason ??= reason;
      controller.abort();
    };
    panelRun.signal.addEventListener('abort', () => controller.abort(), { once: true }); // a newer run replaces this one
    this.active = { stop };
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, true);
    const progress = delayedProgress(vscode.l10n.t('Attention: computing {0}', model.spec), () => stop('user'));
    deps.status.running(model.spec);
    const started = Date.now();
    let info: ModelInfo | undefined;
    let startedRun: InspectStarted | undefined;
    let tooMany: TooMany | undefined;
    let layersDone = 0;
    deps.log.appendLine(`run ${panelRun.id}: ${model.path} on ${settings.backend}, ${sourceText.length} characters${targetText !== undefined ? ` → ${targetText.length}` : ''}`);

    try {
      let input: InspectRequest['input'] = { text: sourceText, targetText };
      if (target?.kind === 'generate') {
        // Generate first, then teacher-force what was generated: the panel gets whole cross-attention matrices.
        progress.report(vscode.l10n.t('generating the target…'));
        const generation = await deps.engine().inspect({ model: model.path, backend: settings.backend, input: { text: sourceText, generate: target.maxTokens }, wants: {} }, { onEvent: () => undefined }, controller.signal);
        input = { text: sourceText, targetIds: generation.generated?.ids ?? [] };
        deps.log.appendLine(`run ${panelRun.id}: generated ${JSON.stringify(generation.generated?.tokens.join(' ') ?? '')}`);
      }
      const result = await deps.engine().inspect(
        { model: model.path, backend: settings.backend, input, wants: { scores: true, headVectors: true } },
        {
          onStart: (s) => {
            tooMany = tooManyTokens(s, settings.maxTokens);
            if (tooMany) return stop('too-many');
            info = s.model;
            startedRun = s;
            panelRun.post(startedMessage(panelRun.id, s, { source: sourceText, target: targetText }));
            deps.inspections.set({
              runId: panelRun.id, uri: document.uri.toString(),
              source: { start: document.offsetAt(request.source.start), text: sourceText },
              target: target?.kind === 'range' ? { start: document.offsetAt(target.range.start), text: targetText ?? '' } : undefined,
            });
            deps.status.started(s.model.name, s.backend, s.source.ids.length, s.target?.ids.length);
            deps.log.appendLine(`run ${panelRun.id}: ${s.source.ids.length} tokens${s.target ? ` → ${s.target.ids.length}` : ''} on ${s.backend.adapter}${s.backend.fallbackReason ? ` (${s.backend.fallbackReason})` : ''}`);
            this.startedRun.fire({ runId: panelRun.id, model: s.model.name, tokens: s.source.ids.length, targetTokens: s.target?.ids.length });
          },
          onEvent: (event) => {
            if (event.type !== 'attention' || !info || controller.signal.aborted) return;
            panelRun.post(layerMessage(panelRun.id, event, info));
            const total = info.numLayers * (startedRun?.target ? 3 : 1);
            progress.report(vscode.l10n.t('layer {0} of {1}', ++layersDone, total));
          },
        },
        controller.signal,
      );
      if (controller.signal.aborted) throw new Error('aborted'); // the result raced a cancel: the cancel wins
      panelRun.post(finishedMessage(panelRun.id, result.timings));
      const milliseconds = Date.now() - started;
      const t = result.timings;
      deps.log.appendLine(`run ${panelRun.id}: tokenize ${t.tokenizeMs.toFixed(0)} ms, first layer ${t.firstLayerMs.toFixed(0)} ms, forward ${t.forwardMs.toFixed(0)} ms, total ${milliseconds} ms`);
      deps.status.finished(milliseconds, t);
      return {
        status: 'done', runId: panelRun.id, model: result.model.name, tokens: result.source.ids.length, targetTokens: result.target?.ids.length,
        stacks: AttentionPanel.current?.run.id === panelRun.id ? AttentionPanel.current.run.stacks() : undefined,
      };
    } catch (err) {
      if (tooMany) return this.offerTruncation(request, tooMany, panelRun);
      if (stopReason === 'user') {
        const message = vscode.l10n.t('The inspection was cancelled.');
        panelRun.post({ type: 'run-failed', runId: panelRun.id, code: 'CANCELLED', message });
        deps.status.ended(vscode.l10n.t('cancelled'));
        deps.log.appendLine(`run ${panelRun.id}: cancelled`);
        return { status: 'cancelled', runId: panelRun.id, notice: deps.notifier.info(message) };
      }
      if (panelRun.signal.aborted) return { status: 'superseded', runId: panelRun.id }; // a newer run, or the panel closed
      if (isEngineError(err) && err.code === 'TOO_MANY_TOKENS' && startedRun) {
        // Past the model's own position limit: the same offer, with the engine's words.
        const limit = startedRun.model.maxPositions;
        const part = startedRun.target && startedRun.target.ids.length > limit ? 'target' : 'source';
        return this.offerTruncation(request, { part, tokens: part === 'target' ? startedRun.target! : startedRun.source, limit }, panelRun, err.message);
      }
      panelRun.post(failedMessage(panelRun.id, err, errorText(err)));
      deps.status.ended(vscode.l10n.t('failed'));
      return { status: 'failed', runId: panelRun.id, notice: showError(deps.notifier, err) };
    } finally {
      progress.done();
      if (this.active?.stop === stop) {
        this.active = undefined;
        void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
      }
    }
  }


  /**
   * Too many tokens: the run stops before the panel fills, and the user is offered the first `limit`
   * tokens' text (re-run on that prefix, which is selected in the editor) or the setting.
   */
  private offerTruncation(request: InspectionRequest, tooMany: TooMany, panelRun: PanelRun, reason?: string): RunOutcome {
    const count = tooMany.tokens.ids.length;
    const partName = tooMany.part === 'source' ? vscode.l10n.t('The selection') : vscode.l10n.t('The target');
    const message = reason ?? vscode.l10n.t('{0} has {1} tokens, more than attentionInspector.maxTokens ({2}). Attention grows with the square of the length: inspect the first {2} tokens, or raise the setting.', partName, count, tooMany.limit);
    panelRun.post({ type: 'run-failed', runId: panelRun.id, code: 'TOO_MANY_TOKENS', message });
    this.deps.status.ended(vscode.l10n.t('{0} tokens: too many', count));
    this.deps.log.appendLine(`run ${panelRun.id}: ${count} tokens, over the limit of ${tooMany.limit}`);
    const keep = truncationEnd(tooMany.tokens, tooMany.limit);
    const truncate = { title: vscode.l10n.t('Truncate to {0} tokens', tooMany.limit), run: () => this.run(truncated(request, tooMany.part, keep)) };
    const settings = { title: vscode.l10n.t('Open Settings'), run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'attentionInspector.maxTokens') };
    const notice = keep > 0 ? this.deps.notifier.warn(message, truncate, settings) : this.deps.notifier.warn(message, settings);
    return { status: 'too-many-tokens', runId: panelRun.id, tokens: count, notice };
  }
}

function tooManyTokens(started: InspectStarted, limit: number): TooMany | undefined {
  if (started.source.ids.length > limit) return { part: 'source', tokens: started.source, limit };
  if (started.target && started.target.ids.length > limit) return { part: 'target', tokens: started.target, limit };
  return undefined;
}

/** The same request on the first `keep` UTF-16 units of its source (or target), selected in its editor. */
function truncated(request: InspectionRequest, part: 'source' | 'target', keep: number): InspectionRequest {
  const { document } = request;
  const cut = (range: vscode.Range) => new vscode.Range(range.start, document.positionAt(document.offsetAt(range.start) + keep));
  if (part === 'source') {
    const source = cut(request.source);
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document && e.selection.isEqual(request.source));
    if (editor) editor.selection = new vscode.Selection(source.start, source.end);
    return { ...request, source };
  }
  const target = request.target;
  if (target?.kind === 'range') return { ...request, target: { kind: 'range', range: cut(target.range) } };
  if (target?.kind === 'text') return { ...request, target: { kind: 'text', text: target.text.slice(0, keep) } };
  return request;
}
