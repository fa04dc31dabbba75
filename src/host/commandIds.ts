/** Every command the extension contributes (package.json `contributes.commands` lists the same ids). */
export const enum CommandId {
  InspectSelection = 'attentionInspector.inspectSelection',
  InspectCrossAttention = 'attentionInspector.inspectCrossAttention',
  CancelInspection = 'attentionInspector.cancelInspection',
  ChooseModel = 'attentionInspector.chooseModel',
  DownloadModel = 'attentionInspector.downloadModel',
  Export = 'attentionInspector.export',
  ToggleHeatOverlay = 'attentionInspector.toggleHeatOverlay',
  RevealInPanel = 'attentionInspector.revealInPanel',
  TryExample = 'attentionInspector.tryExample',
  GenerateAndStep = 'attentionInspector.generateAndStep',
  PinBaseline = 'attentionInspector.pinBaseline',
  CompareWithBaseline = 'attentionInspector.compareWithBaseline',
}
