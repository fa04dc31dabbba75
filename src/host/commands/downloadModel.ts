/**
 * "Attention: Download Model from Hugging Face" — what the engine's not-cached error offers (remedy
 * 'download-model', src/host/errorText.ts): asks for an id (or takes it as the argument), downloads it into the Hugging Face
 * cache with progress, and makes it the model.
 */
import * as vscode from 'vscode';
import type { ModelPicker } from '../modelPicker/modelPicker';
import { CommandId } from '../commandIds';

export function registerDownloadModel(picker: ModelPicker): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.DownloadModel, (spec?: string) => picker.choose({ kind: 'download', spec }));
}
