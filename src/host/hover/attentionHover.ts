/**
 * The editor hover over an inspected token: a thin adapter from the document position to
 * hoverSections (what to list) and hoverMarkdown (how), in the panel's current layer and heads. Hovering
 * a cross-attention target token also outlines the source tokens it attends to. A run whose text has
 * changed since shows only a "stale — re-run" note.
 */
import * as vscode from 'vscode';
import { CommandId } from '../commandIds';
import { CrossHighlight } from '../editor/crossHighlight';
import { InspectionStore, insideInspectedText, partRanges, toRange, tokenAt } from '../editor/inspections';
import { readSettings } from '../settings';
import type { Reveal } from '../../protocol/messages';
import { hoverSections, type HeadView, type HoverSections } from '../../view-model/attentionLookup';
import { commandUri, hoverMarkdown, staleHoverMarkdown } from './hoverMarkdown';
import type { OffsetRange } from '../editor/ranges';
import { tokenLabel } from '../../view-model/tokens';

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(private readonly inspections: InspectionStore, private readonly highlight: CrossHighlight) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = this.inspections.of(document);
    if (!found) return undefined;
    const { inspection, run } = found;
    const offset = document.offsetAt(position);
    if (!InspectionStore.isCurrent(document, inspection)) {
      this.highlight.clear();
      if (!insideInspectedText(inspection, offset)) return undefined;
      return new vscode.Hover(new vscode.MarkdownString(staleHoverMarkdown(vscode.l10n.t('Stale: the text changed since it was inspected. Re-run "Attention: Inspect Selection" to see its attention.'))));
    }
    const hit = tokenAt(inspection, run, offset);
    if (!hit) {
      this.highlight.clear();
      return undefined;
    }
    const settings = readSettings(document.uri);
    const content = hoverSections(run, hit.part, hit.index, found.selection, settings.defaultAggregation, settings.hoverTopK, found.sinks);
    if (!content) return undefined; // its layer is still being computed
    const crossTarget = hit.part === 'target' && content.view.stack === 'cross';
    const sourceRanges = crossTarget ? partRanges(inspection, run, 'source') : undefined;
    if (sourceRanges) {
      const outlined = content.sections[0].rows.map((row) => sourceRanges[row.index]).filter((r): r is OffsetRange => r !== null);
      this.highlight.show(document, outlined);
    } else {
      this.highlight.clear();
    }
    const markdown = new vscode.MarkdownString(hoverMarkdown(content, labels(content, run.started?.model.numHeads ?? 0), revealLink(content.view, hit.part === 'target' || content.view.stack !== 'cross' ? hit.index : undefined)));
    markdown.isTrusted = { enabledCommands: [CommandId.RevealInPanel] };
    return new vscode.Hover(markdown, toRange(document, hit.range));
  }
}

function headsLabel(view: HeadView, numHeads: number): string {
  const layer = view.layer;
  if (view.heads.length === 1) return vscode.l10n.t('layer {0} · head {1}', layer, view.heads[0]);
  const heads = view.heads.length === numHeads ? vscode.l10n.t('all {0} heads', numHeads) : vscode.l10n.t('heads {0}', view.heads.join(', '));
  if (view.aggregate === 'none') return vscode.l10n.t('layer {0} · {1}, each on its own: the strongest', layer, heads);
  return view.aggregate === 'max'
    ? vscode.l10n.t('layer {0} · max over {1}', layer, heads)
    : vscode.l10n.t('layer {0} · mean over {1}', layer, heads);
}

/** The panel's weighting, when it is not the attention itself. */
function weightingLabel(view: HeadView): string {
  const { valueWeighted, hideSinks } = view.weights;
  if (valueWeighted && hideSinks) return vscode.l10n.t('value-weighted, sinks hidden');
  if (valueWeighted) return vscode.l10n.t('value-weighted');
  return hideSinks ? vscode.l10n.t('sinks hidden') : '';
}

function labels(content: HoverSections, numHeads: number) {
  const weighting = weightingLabel(content.view);
  const where = `${headsLabel(content.view, numHeads)}${weighting ? ` · ${weighting}` : ''}`;
  const cross = content.view.stack === 'cross';
  const token = tokenLabel(content.token);
  return {
    title: cross ? vscode.l10n.t('“{0}” — cross-attention, {1}', token, where) : vscode.l10n.t('“{0}” — {1}', token, where),
    sectionHeaders: content.sections.map((s) => {
      if (s.kind === 'attends-to') return cross ? vscode.l10n.t('Source tokens it attends to') : vscode.l10n.t('Attends to');
      return cross ? vscode.l10n.t('Target tokens attending to it') : vscode.l10n.t('Attended by');
    }),
    weight: vscode.l10n.t('Weight'),
    head: vscode.l10n.t('Head'),
    open: vscode.l10n.t('Open {0} in the panel', where),
  };
}

/** The link that shows this layer (and head, for a single head) in the panel, focused on the query token. */
function revealLink(view: HeadView, queryToken: number | undefined): string {
  const target: Omit<Reveal, 'type'> = {
    stack: view.stack, layer: view.layer,
    ...(view.heads.length === 1 ? { head: view.heads[0] } : {}),
    ...(queryToken === undefined ? {} : { token: queryToken }),
  };
  return commandUri(CommandId.RevealInPanel, target);
}
