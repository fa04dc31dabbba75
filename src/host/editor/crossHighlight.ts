/**
 * Hovering a target token of a cross-attention run outlines the source tokens it attends to most. One
 * decoration type in contributed theme colors; cleared by the next hover elsewhere and by any edit.
 */
import * as vscode from 'vscode';
import { toRange } from './inspections';
import type { OffsetRange } from './ranges';

export interface HighlightState {
  readonly uri: string;
  readonly ranges: readonly OffsetRange[];
}

export class CrossHighlight implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    borderWidth: '1px',
    borderStyle: 'solid',
    borderRadius: '2px',
    borderColor: new vscode.ThemeColor('attentionInspector.crossHighlightBorder'),
    backgroundColor: new vscode.ThemeColor('attentionInspector.crossHighlightBackground'),
  });
  private applied: HighlightState | undefined;
  private readonly disposables: vscode.Disposable[] = [
    this.decoration,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() === this.applied?.uri && e.contentChanges.length) this.clear();
    }),
  ];

  /** What is outlined now (what setDecorations was last given), for tests. */
  get state(): HighlightState | undefined {
    return this.applied;
  }

  show(document: vscode.TextDocument, ranges: readonly OffsetRange[]): void {
    const uri = document.uri.toString();
    this.applied = { uri, ranges };
    for (const editor of vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri)) {
      editor.setDecorations(this.decoration, ranges.map((r) => toRange(document, r)));
    }
  }

  clear(): void {
    if (!this.applied) return;
    const uri = this.applied.uri;
    this.applied = undefined;
    for (const editor of vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri)) editor.setDecorations(this.decoration, []);
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
