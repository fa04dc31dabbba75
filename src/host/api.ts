/**
 * What activate() returns: a small read-only view of the editor side, for other extensions and for the
 * integration tests (which cannot see notifications or decorations in code-server's smoke-test mode).
 * Everything here reads the same state the user sees; nothing in it changes behaviour.
 */
import type * as vscode from 'vscode';
import type { HighlightState } from './editor/crossHighlight';
import type { OverlayState } from './editor/heatOverlay';
import type { Delivery } from './runs/deliveryLog';
import type { RunOutcome, RunStart } from './runs/inspectionRunner';
import type { Notice } from './notify';
import type { PanelView } from '../view-model/attentionLookup';

export interface AttentionInspectorApi {
  /** The last messages shown to the user, oldest first. */
  readonly notices: () => readonly Notice[];
  readonly onDidNotify: vscode.Event<Notice>;
  /** Runs a notice's action as its button would; resolves with the action's result. */
  readonly chooseAction: (notice: Notice, title: string) => Promise<unknown>;
  readonly onDidStartRun: vscode.Event<RunStart>;
  readonly onDidEndRun: vscode.Event<RunOutcome>;
  /** The heat overlay as last painted. */
  readonly overlay: () => OverlayState;
  /** The source ranges outlined by hovering a cross-attention target token. */
  readonly crossHighlight: () => HighlightState | undefined;
  /** The status bar entry's text. */
  readonly statusText: () => string;
  /** The panel's selection (layer, heads, aggregation, focus) as its webview last reported it. */
  readonly panelSelection: () => PanelView | undefined;
  readonly onDidChangePanelSelection: vscode.Event<PanelView>;
  /** How fast the current run reached the panel (engine and panel times per layer). */
  readonly delivery: () => Delivery;
  /** Fires with the rows of the Choose Model quick pick once it is shown. */
  readonly onDidShowModelPicker: vscode.Event<readonly string[]>;
}
