/** Every command the extension contributes (package.json `contributes.commands` lists the same ids). */
export const enum CommandId {
  InspectSelection = 'attentionInspector.inspectSelection',
}
