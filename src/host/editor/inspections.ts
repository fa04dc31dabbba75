/**
 * Which document text the panel's run was computed from: the inspected source (and a target selected
 * in the same document) with their start offsets and their text at run time. A hover or the heat
 * overlay uses it only while that text is unchanged: an edit that changes or moves it makes the run
 * stale, and a stale run is never shown as current.
 */
import * as vscode from 'vscode';
import type { AttentionStack } from '../../protocol/messages';
import type { AttentionRun } from '../../view-model/attentionRun';
import type { PanelView, TextPart } from '../../view-model/attentionLookup';
import { tokenAtOffset, tokenDocumentRanges, type OffsetRange } from './ranges';

export interface InspectedSpan {
  /** Offset of the text's first character in the document. */
  readonly start: number;
  readonly text: string;
}

export interface Inspection {
  /** The panel run it belongs to. */
  readonly runId: number;
  readonly uri: string;
  readonly source: InspectedSpan;
  /** A cross-attention target selected in the same document; absent when typed or generated. */
  readonly target?: InspectedSpan;
}

export interface TokenHit {
  readonly part: TextPart;
  readonly index: number;
  readonly range: OffsetRange;
}

function spanRange(document: vscode.TextDocument, span: InspectedSpan): vscode.Range {
  return new vscode.Range(document.positionAt(span.start), document.positionAt(span.start + span.text.length));
}

export function toRange(document: vscode.TextDocument, range: OffsetRange): vscode.Range {
  return new vscode.Range(document.positionAt(range.start), document.positionAt(range.end));
}

/** What the editor side reads of the run session: the run the panel shows, and the panel's selection. */
export interface ShownRun {
  readonly run: AttentionRun;
  readonly selection: PanelView | undefined;
  /** The sink positions of a stack, hidden when the panel hides them. */
  sinkPositions(stack: AttentionStack): readonly number[];
}

export class InspectionStore implements vscode.Disposable {
  private inspection: Inspection | undefined;
  private readonly changed = new vscode.EventEmitter<Inspection | undefined>();
  /** Fires when a run's text is recorded or dropped. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly shown: ShownRun) {}

  get current(): Inspection | undefined {
    return this.inspection;
  }

  set(inspection: Inspection | undefined): void {
    this.inspection = inspection;
    this.changed.fire(inspection);
  }

  /** The inspection of `document` whose run is still the one shown, with the panel's selection; or undefined. */
  of(document: vscode.TextDocument): { inspection: Inspection; run: AttentionRun; selection: PanelView | undefined; sinks: (stack: AttentionStack) => readonly number[] } | undefined {
    const inspection = this.inspection;
    const { run, selection } = this.shown;
    if (!inspection || run.id !== inspection.runId || !run.started || inspection.uri !== document.uri.toString()) return undefined;
    return { inspection, run, selection, sinks: (stack) => this.shown.sinkPositions(stack) };
  }

  /** False once the inspected text was edited or moved: its tokens no longer sit at their offsets. */
  static isCurrent(document: vscode.TextDocument, inspection: Inspection): boolean {
    const spans = inspection.target ? [inspection.source, inspection.target] : [inspection.source];
    return spans.every((span) => {
      const end = span.start + span.text.length;
      return document.offsetAt(document.positionAt(end)) === end && document.getText(spanRange(document, span)) === span.text;
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Each token's document range, for a part of the run that lies in the document (a typed or generated target does not). */
export function partRanges(inspection: Inspection, run: AttentionRun, part: TextPart): (OffsetRange | null)[] | undefined {
  const span = part === 'source' ? inspection.source : inspection.target;
  const tokens = part === 'source' ? run.started?.source : run.started?.target;
  return span && tokens ? tokenDocumentRanges(tokens.offsetsUtf16, span.start) : undefined;
}

/** The inspected token under a document offset: a source token, else a target token. */
export function tokenAt(inspection: Inspection, run: AttentionRun, offset: number): TokenHit | undefined {
  for (const part of ['source', 'target'] as const) {
    const ranges = partRanges(inspection, run, part);
    const index = ranges ? tokenAtOffset(ranges, offset) : -1;
    if (ranges && index >= 0) return { part, index, range: ranges[index]! };
  }
  return undefined;
}

/** True when the offset lies inside the text a run was computed from (to place a "stale" note). */
export function insideInspectedText(inspection: Inspection, offset: number): boolean {
  const spans = inspection.target ? [inspection.source, inspection.target] : [inspection.source];
  return spans.some((s) => s.start <= offset && offset < s.start + s.text.length);
}
