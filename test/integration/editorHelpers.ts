// Helpers for the editor-side integration tests: the extension's API (what the user was told, what was
// painted), settings set for one test, hovers as text, and the shared test models.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from '../../src/api';
import type { RunOutcome } from '../../src/editor/inspectionRunner';
import type { Notice } from '../../src/notify';
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
