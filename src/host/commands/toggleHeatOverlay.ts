/** "Attention: Toggle Heat Overlay": paints (or clears) the focused token's attention on the inspected text. */
import * as vscode from 'vscode';
import type { HeatOverlay } from '../editor/heatOverlay';
import type { InspectionStore } from '../editor/inspections';
import type { Notifier } from '../notify';
import { CommandId } from '../commandIds';

export function registerToggleHeatOverlay(overlay: HeatOverlay, inspections: InspectionStore, notifier: Notifier): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ToggleHeatOverlay, () => {
    const on = overlay.setEnabled(!overlay.state.enabled);
    if (on && !inspections.current) {
      notifier.info(vscode.l10n.t('The heat overlay paints the attention of one token on the inspected text: inspect a selection, then put the cursor on one of its tokens (or point at a token in the panel).'));
    }
    return on;
  });
}
