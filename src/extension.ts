/** Activation: wiring only. Every disposable is registered on the context. */
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from './api';
import { registerBaselineCommands } from './commands/baseline';
import { registerCancelInspection } from './commands/cancelInspection';
import { registerChooseModel } from './commands/chooseModel';
import { registerDownloadModel } from './commands/downloadModel';
import { registerExport } from './commands/exportRun';
import { registerGenerateAndStep } from './commands/generateAndStep';
import { registerInspectCrossAttention } from './commands/inspectCrossAttention';
import { registerInspectSelection } from './commands/inspectSelection';
import { registerRevealInPanel } from './commands/revealInPanel';
import { registerToggleHeatOverlay } from './commands/toggleHeatOverlay';
import { registerTryExample } from './commands/tryExample';
import { CrossHighlight } from './editor/crossHighlight';
import { HeatOverlay } from './editor/heatOverlay';
import { InspectionRunner } from './editor/inspectionRunner';
import { InspectionStore } from './editor/inspections';
import { onDidChangePanelSelection } from './editor/panelSelection';
import { readSettings } from './editor/settings';
import { RunStatusBar } from './editor/statusBar';
import { EngineClient } from './engine/worker/engineClient';
import { AttentionHoverProvider } from './hover/attentionHover';
import { ModelPicker } from './models/modelPicker';
import { Notifier } from './notify';
import { AttentionPanel, PANEL_VIEW_TYPE } from './panel/attentionPanel';

export function activate(context: vscode.ExtensionContext): AttentionInspectorApi {
  const log = vscode.window.createOutputChannel('Attention Inspector');
  // The engine's worker thread starts on the first run, not at activation.
  let engine: EngineClient | undefined;
  const getEngine = () => (engine ??= new EngineClient(vscode.Uri.joinPath(context.extensionUri, 'dist', 'engineWorker.js').fsPath));
  const notifier = new Notifier(log);
  const inspections = new InspectionStore();
  const status = new RunStatusBar();
  const runner = new InspectionRunner({ extensionUri: context.extensionUri, log, notifier, inspections, status, engine: getEngine });
  const overlay = new HeatOverlay(inspections, () => readSettings().defaultAggregation);
  const crossHighlight = new CrossHighlight();
  const picker = new ModelPicker(notifier);
  context.subscriptions.push(
    log, notifier, inspections, status, runner, overlay, crossHighlight, picker,
    { dispose: () => void engine?.dispose() },
    { dispose: () => AttentionPanel.disposeCurrent() },
    registerInspectSelection(runner, notifier),
    registerInspectCrossAttention(runner, notifier),
    registerCancelInspection(runner),
    registerChooseModel(picker),
    registerDownloadModel(picker),
    registerExport(context.extensionUri, notifier),
    registerToggleHeatOverlay(overlay, inspections, notifier),
    registerRevealInPanel(notifier),
    registerTryExample({ runner, inspections, overlay, notifier }),
    registerGenerateAndStep({ extensionUri: context.extensionUri, log, notifier, engine: getEngine }),
    registerBaselineCommands(notifier),
    vscode.languages.registerHoverProvider('*', new AttentionHoverProvider(inspections, crossHighlight)),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => AttentionPanel.revive(panel, context.extensionUri, log),
    }),
  );
  return {
    notices: () => notifier.notices,
    onDidNotify: notifier.onDidNotify,
    chooseAction: (notice, title) => notifier.choose(notice, title),
    onDidStartRun: runner.onDidStartRun,
    onDidEndRun: runner.onDidEndRun,
    overlay: () => overlay.state,
    crossHighlight: () => crossHighlight.state,
    statusText: () => status.text,
    panelSelection: () => AttentionPanel.current?.selection,
    onDidChangePanelSelection,
    onDidShowModelPicker: picker.onDidShow,
  };
}
