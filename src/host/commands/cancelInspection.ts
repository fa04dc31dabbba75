/** "Attention: Cancel Inspection": stops the running inspection, as its progress notification's Cancel does. */
import * as vscode from 'vscode';
import type { InspectionRunner } from '../runs/inspectionRunner';
import { CommandId } from '../commandIds';

export function registerCancelInspection(runner: InspectionRunner): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.CancelInspection, () => runner.cancel());
}
