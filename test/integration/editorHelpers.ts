// Helpers for the editor-side integration tests: the extension's API (what the user was told, what was
// painted), settings set for one test, hovers as text, and the shared test models.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/host/api';
import type { RunOutcome } from '../../src/host/runs/inspectionRunner';
import type { Notice } from '../../src/host/notify';
import type { PanelView as PanelSelection } from '../../src/view-model/attentionLookup';
import { SHARED } from '../helpers/shared';
import { EXTENSION_ID } from './workbench';

/** ../shared/models beside the repository: the extension host runs on this machine, so it reads them directly. */
export const MODELS = path.join(SHARED, 'models');
export const LLAMA = path.join(MODELS, 'llama-stories260K');

export async function inspectorApi(): Promise<AttentionInspectorApi> {
  const extension = vscode.extensions.getExtension<AttentionInspectorApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

const settings = () => vscode.workspace.getConfiguration('attentionInspector');

/** Sets user settings (`attentionInspector.<key>`); returns a function that removes them again. */
export async function setSettings(values: Record<string, unknown>): Promise<() => Promise<void>> {
  for (const [key, value] of Object.entries(values)) await settings().update(key, value, vscode.ConfigurationTarget.Global);
  return async () => {
    for (const key of Object.keys(values)) await settings().update(key, undefined, vscode.ConfigurationTarget.Global);
  };
}

export function modelSetting(): string | undefined {
  return settings().inspect<string>('model')?.globalValue;
}

/** Runs a command that returns a RunOutcome (Inspect Selection, Inspect Cross-Attention…, Try Example). */
export async function runCommand(command: string, ...args: unknown[]): Promise<RunOutcome> {
  return (await vscode.commands.executeCommand(command, ...args)) as RunOutcome;
}

export function assertDone(outcome: RunOutcome): void {
  assert.strictEqual(outcome.status, 'done', `the run ended ${outcome.status}: ${outcome.notice?.message ?? ''}`);
}

/** A notice's message, asserting its severity and that it says `pattern`. */
export function assertNotice(notice: Notice | undefined, severity: Notice['severity'], pattern: RegExp): Notice {
  assert.ok(notice, 'expected a message to the user');
  assert.strictEqual(notice.severity, severity, notice.message);
  assert.match(notice.message, pattern);
  return notice;
}

/** The Markdown of every hover at a position, joined (the providers' results, as the editor gets them). */
export async function hoverMarkdown(document: vscode.TextDocument, position: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, position)) ?? [];
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** The position of the `nth` occurrence of `text` in the document (plus `delta` characters). */
export function positionOf(document: vscode.TextDocument, text: string, delta = 0, nth = 0): vscode.Position {
  let offset = -1;
  for (let i = 0; i <= nth; i++) offset = document.getText().indexOf(text, offset + 1);
  assert.ok(offset >= 0, `"${text}" is not in the document`);
  return document.positionAt(offset + delta);
}

export interface ExpectedView {
  readonly layer: number;
  readonly heads: readonly number[];
  readonly aggregate: 'none' | 'mean' | 'max';
}

/** The layer and heads a hover reads: the panel's reported selection, else layer 0, every head, the default aggregation. */
export function expectedView(selection: PanelSelection | undefined, numHeads: number, defaultAggregation: ExpectedView['aggregate']): ExpectedView {
  const heads = selection?.heads.length ? selection.heads : Array.from({ length: numHeads }, (_, h) => h);
  return { layer: selection?.layer ?? 0, heads, aggregate: selection?.aggregate ?? defaultAggregation };
}

/** The hover heading's words for a view, in English. */
export function viewLabel(view: ExpectedView, numHeads: number): string {
  if (view.heads.length === 1) return `layer ${view.layer} · head ${view.heads[0]}`;
  const heads = view.heads.length === numHeads ? `all ${numHeads} heads` : `heads ${view.heads.join(', ')}`;
  if (view.aggregate === 'none') return `layer ${view.layer} · ${heads}, each on its own: the strongest`;
  return `layer ${view.layer} · ${view.aggregate} over ${heads}`;
}

/**
 * A hover with the panel selection it was computed for. The panel reports its selection a moment after
 * a run starts; a hover that raced such a report is asked again, so the pair always belongs together.
 */
export async function hoverWithSelection(api: AttentionInspectorApi, document: vscode.TextDocument, position: vscode.Position): Promise<{ markdown: string; selection: PanelSelection | undefined }> {
  for (;;) {
    const selection = api.panelSelection();
    const markdown = await hoverMarkdown(document, position);
    if (api.panelSelection() === selection) return { markdown, selection };
  }
}

/** One listed partner of a hover: its token label, position, weight (and head), and which section lists it. */
export interface HoverRow {
  readonly token: string;
  readonly index: number;
  readonly weight: number;
  readonly head?: number;
  readonly section: number;
}

/**
 * The partners a hover's table lists, section by section, strongest first. The sections sit side by
 * side: each starts at a left-aligned column (|:--|) with "token (position)", then weight (and head).
 */
export function hoverRows(markdown: string): HoverRow[] {
  const lines = markdown.split('\n').filter((line) => line.startsWith('|'));
  if (lines.length < 2) return [];
  const cells = (line: string) => line.slice(2, -2).split(' | ');
  const align = lines[1].slice(1, -1).split('|');
  const starts = align.flatMap((a, i) => (a === ':--' ? [i] : []));
  const rows: HoverRow[] = [];
  starts.forEach((start, section) => {
    const width = (starts[section + 1] ?? align.length) - start;
    for (const line of lines.slice(2)) {
      const [tokenCell, weight, head] = cells(line).slice(start, start + width);
      const match = /^(.*) \((\d+)\)$/.exec(tokenCell ?? '');
      if (!match) continue;
      rows.push({ token: match[1], index: Number(match[2]), weight: Number(weight), ...(width > 2 && head ? { head: Number(head) } : {}), section });
    }
  });
  return rows;
}

/** Resolves with the next event. */
export function nextEvent<T>(event: vscode.Event<T>): Promise<T> {
  return new Promise((resolve) => {
    const subscription = event((value) => {
      subscription.dispose();
      resolve(value);
    });
  });
}

/** Resolves once `done()` holds, checking now and after each event (mocha's timeout bounds the wait). */
export function until<T>(event: vscode.Event<T>, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve();
    const subscription = event(() => {
      if (!done()) return;
      subscription.dispose();
      resolve();
    });
  });
}

/** Places the cursor (an empty selection) at a position of the editor. */
export function putCursor(editor: vscode.TextEditor, position: vscode.Position): void {
  editor.selection = new vscode.Selection(position, position);
}
