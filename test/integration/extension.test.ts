import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID, INSPECT_SELECTION_COMMAND } from './workbench';

describe('Extension', () => {
  it('activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
  });

  it('registers every command its manifest declares', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    await extension.activate();
    const manifest = extension.packageJSON as { contributes?: { commands?: { command: string }[] } };
    const declared = (manifest.contributes?.commands ?? []).map((c) => c.command);
    assert.ok(declared.includes(INSPECT_SELECTION_COMMAND), `the manifest does not declare ${INSPECT_SELECTION_COMMAND}`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepStrictEqual(declared.filter((command) => !registered.has(command)), [], 'declared but not registered');
  });
});
