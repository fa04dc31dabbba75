/** The hover's link: shows a stack's layer (and head, and token) in the attention panel. */
import * as vscode from 'vscode';
import type { Notifier } from '../notify';
import { AttentionPanel } from '../panel/attentionPanel';
import type { Reveal } from '../../protocol/messages';
import { CommandId } from '../commandIds';

export function registerRevealInPanel(notifier: Notifier): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.RevealInPanel, (target: Omit<Reveal, 'type'>) => {
    const panel = AttentionPanel.current;
    if (!panel) {
      notifier.error(vscode.l10n.t('The attention panel is closed: run "Attention: Inspect Selection" again.'));
      return undefined;
    }
    panel.reveal(target);
    return target;
  });
}
