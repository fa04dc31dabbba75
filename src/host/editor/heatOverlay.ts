/**
 * The heat overlay: the focused token's attention painted on the inspected text as background
 * intensity, in the panel's current layer and heads. The focus is the token last pointed at, in the
 * panel (its selection's focus) or in the editor (the cursor on an inspected token). Eight decoration
 * types, one contributed theme color each (`attentionInspector.heat1` … `heat8`, rising alpha), so
 * themes can restyle it. Cleared when the inspected text changes, or by Toggle Heat Overlay.
 */
import * as vscode from 'vscode';
import { attentionWeights, focusForToken, headViewFor, partOf, type HeadView, type PanelView, type Side } from '../../view-model/attentionLookup';
import type { AttentionStack, HeadAggregate } from '../../protocol/messages';
import { InspectionStore, partRanges, toRange, tokenAt } from './inspections';
import { HEAT_LEVELS, heatSpans, type HeatSpan } from './ranges';

export interface OverlayFocus {
  readonly stack: AttentionStack;
  readonly side: Side;
  readonly index: number;
  readonly from: 'panel' | 'editor';
}

export interface OverlayState {
  readonly enabled: boolean;
  readonly focus: OverlayFocus | undefined;
  /** What setDecorations was last given: the document, each painted span's level, and the layer and heads read. */
  readonly painted: { readonly uri: string; readonly spans: readonly HeatSpan[]; readonly view: HeadView } | undefined;
}

export class HeatOverlay implements vscode.Disposable {
  private readonly levels = Array.from({ length: HEAT_LEVELS }, (_, i) =>
    vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(`attentionInspector.heat${i + 1}`), borderRadius: '2px' }));
  private enabled = false;
  private focus: OverlayFocus | undefined;
  private painted: OverlayState['painted'];
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly inspections: InspectionStore,
    onDidChangePanelSelection: vscode.Event<PanelView>,
    private readonly defaultAggregation: () => HeadAggregate,
  ) {
    this.disposables = [
      ...this.levels,
      inspections.onDidChange(() => {
        this.focus = undefined; // a new run: the old focus names another text's tokens
        this.refresh();
      }),
      onDidChangePanelSelection((selection) => {
        if (selection.focus) this.focus = { stack: selection.stack, side: selection.focus.side, index: selection.focus.index, from: 'panel' };
        else if (this.focus?.from === 'panel') this.focus = undefined;
        this.refresh();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.followCursor(e.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && e.document.uri.toString() === this.inspections.current?.uri) this.refresh();
      }),
    ];
  }

  get state(): OverlayState {
    return { enabled: this.enabled, focus: this.focus, painted: this.painted };
  }

  /** Turns the overlay on or off; returns whether it is on now. */
  setEnabled(enabled: boolean): boolean {
    this.enabled = enabled;
    void vscode.commands.executeCommand('setContext', 'attentionInspector.heatOverlay', enabled);
    if (this.enabled && !this.focus) {
      const editor = vscode.window.activeTextEditor;
      if (editor) this.followCursor(editor);
    }
    this.refresh();
    return this.enabled;
  }

  /** A cursor (an empty selection) on an inspected token focuses that token. */
  private followCursor(editor: vscode.TextEditor): void {
    const found = this.inspections.of(editor.document);
    if (!found || !editor.selection.isEmpty || !InspectionStore.isCurrent(editor.document, found.inspection)) return;
    const hit = tokenAt(found.inspection, found.run, editor.document.offsetAt(editor.selection.active));
    if (!hit) return;
    const focus = focusForToken(found.run.started?.target !== undefined, hit.part, hit.index);
    this.focus = { ...focus, from: 'editor' };
    this.refresh();
  }

  /** Paints the focused token's weights on every visible editor of the inspected document, or clears them. */
  private refresh(): void {
    const uri = this.inspections.current?.uri;
    const editors = vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri);
    const { spans, view } = (editors.length && this.spans(editors[0].document)) || { spans: [], view: undefined };
    const stale = this.painted && this.painted.uri !== uri ? vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === this.painted!.uri) : [];
    for (const editor of stale) for (const level of this.levels) editor.setDecorations(level, []);
    for (const editor of editors) {
      this.levels.forEach((level, i) => editor.setDecorations(level, spans.filter((s) => s.level === i + 1).map((s) => toRange(editor.document, s))));
    }
    this.painted = spans.length && uri && view ? { uri, spans, view } : undefined;
  }

  private spans(document: vscode.TextDocument): { spans: HeatSpan[]; view: HeadView } | undefined {
    const found = this.inspections.of(document);
    const focus = this.focus;
    if (!this.enabled || !focus || !found || !InspectionStore.isCurrent(document, found.inspection)) return undefined;
    const view = headViewFor(found.run, focus.stack, found.selection, this.defaultAggregation());
    const weights = attentionWeights(found.run, view, focus.side, focus.index, found.sinks(view.stack));
    const ranges = partRanges(found.inspection, found.run, partOf(focus.stack, focus.side === 'query' ? 'key' : 'query'));
    return weights && ranges ? { spans: heatSpans(ranges, weights.values), view } : undefined;
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
