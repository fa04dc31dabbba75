/** Activation: wiring only. Every disposable is registered on the context. */
import * as vscode from 'vscode';
import type { AttentionInspectorApi } from './host/api';
import { registerBaselineCommands } from './host/commands/baseline';
import { registerCancelInspection } from './host/commands/cancelInspection';
import { registerChooseModel } from './host/commands/chooseModel';
import { registerDownloadModel } from './host/commands/downloadModel';
import { registerExport } from './host/commands/exportRun';
import { registerGenerateAndStep } from './host/commands/generateAndStep';
import { registerInspectCrossAttention } from './host/commands/inspectCrossAttention';
import { registerInspectSelection } from './host/commands/inspectSelection';
import { registerRevealInPanel } from './host/commands/revealInPanel';
import { registerToggleHeatOverlay } from './host/commands/toggleHeatOverlay';
import { registerTryExample } from './host/commands/tryExample';
import { CrossHighlight } from './host/editor/crossHighlight';
import { HeatOverlay } from './host/editor/heatOverlay';
import { InspectionRunner } from './host/runs/inspectionRunner';
import { InspectionStore } from './host/editor/inspections';
import { modelName, readSettings } from './host/settings';
import { RunStatusBar } from './host/editor/statusBar';
import { EngineClient } from './engine/worker/engineClient';
import { AttentionHoverProvider } from './host/hover/attentionHover';
import { ModelPicker } from './host/modelPicker/modelPicker';
import { Notifier } from './host/notify';
import { AttentionPanel, PANEL_VIEW_TYPE } from './host/panel/attentionPanel';
import { RunSession } from './host/runs/runSession';

export function activate(context: vscode.ExtensionContext): AttentionInspectorApi {
  const log = vscode.window.createOutputChannel('Attention Inspector');
  // The engine's process starts on the first run, not at activation, and again after a crash.
  let engine: EngineClient | undefined;
  const getEngine = () => (engine ??= new EngineClient(vscode.Uri.joinPath(context.extensionUri, 'dist', 'engineWorker.js').fsPath, {
    memoryBudgetMB: () => readSettings().memoryBudgetMB,
    maxLoadedModels: () => readSettings().maxLoadedModels,
    onOutput: (text) => log.append(text),
    lowPriority: true,
  }));
  const notifier = new Notifier(log);
  const session = new RunSession();
  const inspections = new InspectionStore(session);
  const status = new RunStatusBar();
  const showPanel = () => void AttentionPanel.createOrShow(session, context.extensionUri, log);
  const runner = new InspectionRunner({ log, notifier, inspections, status, session, showPanel, engine: getEngine });
  const overlay = new HeatOverlay(inspections, session.onDidChangeSelection, () => readSettings().defaultAggregation);
  const crossHighlight = new CrossHighlight();
  const picker = new ModelPicker(notifier);
  context.subscriptions.push(
    log, notifier, session, inspections, status, runner, overlay, crossHighlight, picker,
    { dispose: () => void engine?.dispose() },
    { dispose: () => AttentionPanel.current?.dispose() },
    registerInspectSelection(runner, notifier),
    registerInspectCrossAttention(runner, notifier),
    registerCancelInspection(runner),
    registerChooseModel(picker),
    registerDownloadModel(picker),
    registerExport(session, context.extensionUri, notifier),
    registerToggleHeatOverlay(overlay, inspections, notifier),
    registerRevealInPanel(notifier),
    registerTryExample({ runner, inspections, overlay, notifier }),
    registerGenerateAndStep(runner, notifier),
    registerBaselineCommands(session, notifier),
    vscode.languages.registerHoverProvider('*', new AttentionHoverProvider(inspections, crossHighlight)),
    // Choose Model (or an edit of the setting) changes what the next run uses: the status bar says so.
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('attentionInspector.model') && status.modelChosen(modelName(readSettings().model))),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => AttentionPanel.revive(panel, session, context.extensionUri, log),
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
    panelSelection: () => session.selection,
    onDidChangePanelSelection: session.onDidChangeSelection,
    onDidShowModelPicker: picker.onDidShow,
    delivery: () => session.delivery(),
  };
}
