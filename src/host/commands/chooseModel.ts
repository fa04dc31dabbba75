/** "Attention: Choose Model…" (see ModelPicker); an argument skips the quick pick. */
import * as vscode from 'vscode';
import type { ModelChoice, ModelPicker } from '../modelPicker/modelPicker';
import { CommandId } from '../commandIds';

export function registerChooseModel(picker: ModelPicker): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ChooseModel, (choice?: ModelChoice) => picker.choose(choice));
}
