/**
 * What the editor shows about one token of an inspected text: the weights of its row (the tokens it
 * attends to) or its column (the tokens that attend to it) in the panel's current layer and heads.
 * Pure functions over the host's copy of the run (no `vscode`), shared by the hover and the heat overlay.
 */
import type { WeightOptions } from '../protocol/data';
import type { AttentionStack, HeadAggregate, PanelTokens, SelectionChanged } from '../protocol/messages';
import type { AttentionRun } from './attentionRun';
import { topIndices } from './matrices';
import { weightedLayer } from './weighting';

/** The panel's selection without the message type, as the host keeps it. */
export type PanelView = Omit<SelectionChanged, 'type'>;

/**
 * Which attention to read: a stack's layer and heads, combined by `aggregate`. 'none' (the panel shows
 * each head on its own): one head is read as is; over several heads each partner gets its strongest
 * head's weight, and that head is named.
 */
export interface HeadView {
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly heads: readonly number[];
  readonly aggregate: HeadAggregate;
  /** The panel's weighting (value-weighted, sinks hidden). */
  readonly weights: WeightOptions;
}

/** An inspected text: the input (source) or, in a cross-attention run, the decoder's target. */
export type TextPart = 'source' | 'target';
export type Side = 'query' | 'key';

/**
 * The panel's layer, heads and aggregation applied to `stack`; before the panel reports a selection:
 * layer 0, every head, the configured default aggregation.
 */
export function headViewFor(run: AttentionRun, stack: AttentionStack, selection: PanelView | undefined, defaultAggregate: HeadAggregate): HeadView {
  const numHeads = run.started?.model.numHeads ?? 0;
  const wanted = selection?.layer ?? 0;
  const layer = run.layer(stack, wanted) ? wanted : 0;
  const active = selection?.heads.filter((h) => h >= 0 && h < numHeads) ?? [];
  const heads = active.length ? active : Array.from({ length: numHeads }, (_, h) => h);
  const aggregate = selection?.aggregate ?? defaultAggregate;
  const weights = { valueWeighted: selection?.valueWeighted ?? false, hideSinks: selection?.hideSinks ?? false };
  return { stack, layer, heads, aggregate, weights };
}

export interface Weights {
  /** One weight per partner token. */
  readonly values: Float32Array;
  /** 'none' over several heads: the head each weight comes from. */
  readonly heads?: Int32Array;
}

/**
 * A token's weights in a view: over the keys for a query (its row), over the queries for a key (its
 * column), combined over the view's heads, weighed as the panel weighs them (`sinks`: the stack's sink
 * positions). Undefined while that layer has not arrived.
 */
export function attentionWeights(run: AttentionRun, view: HeadView, side: Side, index: number, sinks: readonly number[] = []): Weights | undefined {
  const stored = run.layerData(view.stack, view.layer);
  const layer = stored && weightedLayer(stored, view.weights, view.weights.hideSinks ? sinks : []);
  if (!layer || view.heads.length === 0) return undefined;
  const { queryLength: rows, keyLength: cols, probs } = layer;
  if (index < 0 || index >= (side === 'query' ? rows : cols)) return undefined;
  const length = side === 'query' ? cols : rows;
  const mean = view.aggregate === 'mean';
  const values = new Float32Array(length).fill(mean ? 0 : -Infinity);
  const heads = view.aggregate === 'none' && view.heads.length > 1 ? new Int32Array(length) : undefined;
  for (const head of view.heads) {
    for (let i = 0; i < length; i++) {
      const w = side === 'query' ? probs[(head * rows + index) * cols + i] : probs[(head * rows + i) * cols + index];
      if (mean) values[i] += w / view.heads.length;
      else if (w > values[i]) {
        values[i] = w;
        if (heads) heads[i] = head;
      }
    }
  }
  return { values, heads };
}

export interface Partner {
  readonly index: number;
  readonly token: string;
  readonly weight: number;
  /** The head the weight comes from, when several heads are shown each on its own. */
  readonly head?: number;
}

export interface HoverSection {
  /** 'attends-to': the hovered token's strongest keys; 'attended-by': the queries that attend to it most. */
  readonly kind: 'attends-to' | 'attended-by';
  /** Which text the partners are tokens of. */
  readonly partners: TextPart;
  readonly rows: readonly Partner[];
}

export interface HoverSections {
  readonly view: HeadView;
  readonly token: string;
  readonly sections: readonly HoverSection[];
}

/**
 * What a hover over token `index` of `part` lists. Self-attention: the keys it attends to and the
 * queries attending to it. Cross-attention: a target token lists the source tokens it attends to; a
 * source token lists the target tokens attending to it.
 */
export function hoverSections(
  run: AttentionRun, part: TextPart, index: number, selection: PanelView | undefined, defaultAggregate: HeadAggregate, topK: number,
  sinks: (stack: AttentionStack) => readonly number[] = () => [],
): HoverSections | undefined {
  const started = run.started;
  const tokens = part === 'source' ? started?.source : started?.target;
  if (!started || !tokens || index < 0 || index >= tokens.tokens.length) return undefined;
  const cross = started.target !== undefined;
  const view = headViewFor(run, cross ? 'cross' : 'self', selection, defaultAggregate);
  const plan: { kind: HoverSection['kind']; side: Side; partners: TextPart }[] = !cross
    ? [{ kind: 'attends-to', side: 'query', partners: 'source' }, { kind: 'attended-by', side: 'key', partners: 'source' }]
    : part === 'target'
      ? [{ kind: 'attends-to', side: 'query', partners: 'source' }]
      : [{ kind: 'attended-by', side: 'key', partners: 'target' }];
  const sections: HoverSection[] = [];
  for (const { kind, side, partners } of plan) {
    const weights = attentionWeights(run, view, side, index, sinks(view.stack));
    const partnerTokens = partners === 'source' ? started.source : started.target;
    if (!weights || !partnerTokens) return undefined;
    sections.push({ kind, partners, rows: strongest(weights, partnerTokens, topK) });
  }
  return { view, token: tokens.tokens[index], sections };
}

function strongest(weights: Weights, tokens: PanelTokens, k: number): Partner[] {
  return topIndices(weights.values, Math.max(1, k)).map((index) => ({
    index, token: tokens.tokens[index], weight: weights.values[index], ...(weights.heads ? { head: weights.heads[index] } : {}),
  }));
}

/** Which inspected text holds the query or key tokens of a stack. */
export function partOf(stack: AttentionStack, side: Side): TextPart {
  if (stack === 'decoder') return 'target';
  if (stack === 'cross') return side === 'query' ? 'target' : 'source';
  return 'source';
}

/** A token of the editor's text as a focus on the matrices: the row it queries with, or (a source token of a cross run) the column others query. */
export function focusForToken(crossRun: boolean, part: TextPart, index: number): { stack: AttentionStack; side: Side; index: number } {
  if (!crossRun) return { stack: 'self', side: 'query', index };
  return { stack: 'cross', side: part === 'target' ? 'query' : 'key', index };
}
