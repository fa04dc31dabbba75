/**
 * Where a chosen model is saved. A model is a property of the machine (a folder on its disk, an entry
 * in its Hugging Face cache), not of a project: it goes to the user settings, so it never lands in a
 * repository's .vscode/settings.json. Only when the workspace already sets the model (which would hide
 * a user value) is the workspace value replaced instead, so the choice takes effect.
 */
import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../settings';

export type SavedIn = 'user' | 'workspace';

export async function saveModelSetting(model: string): Promise<SavedIn> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const inWorkspace = config.inspect<string>('model')?.workspaceValue !== undefined;
  await config.update('model', model, inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
  return inWorkspace ? 'workspace' : 'user';
}
