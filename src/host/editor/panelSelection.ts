/** The open panel's selection changes, across panels opening and closing: one event for the editor side. */
import * as vscode from 'vscode';
import { AttentionPanel, type PanelSelection } from '../panel/attentionPanel';

export const onDidChangePanelSelection: vscode.Event<PanelSelection> = (listener, thisArgs, disposables) => {
  let current: vscode.Disposable | undefined;
  const watch = (panel: AttentionPanel | undefined) => {
    current?.dispose();
    current = panel?.onDidChangeSelection(listener, thisArgs);
  };
  watch(AttentionPanel.current);
  const panels = AttentionPanel.onDidChangeCurrent(watch);
  const subscription = { dispose: () => (panels.dispose(), current?.dispose()) };
  disposables?.push(subscription);
  return subscription;
};
