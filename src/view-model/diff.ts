/**
 * Comparing the current run with a pinned baseline (issue 6: "edit the text, re-run, and see which
 * weights changed"). Tokens are paired by alignTokens; a cell of the current matrix whose query and key
 * both have a baseline counterpart gets current − baseline, any other cell NaN (no counterpart). The
 * baseline goes through the same layer and head reduction and the same word folding as the current
 * run, so the difference is of exactly what the views show.
 */
import type { AttentionStack, Baseline, PanelTokens } from '../protocol/messages';
import type { ModelInfo } from '../protocol/run';
import { alignTokens, type TokenAlignment } from './alignment';
import { layerMatrices, type AttentionRun } from './attentionRun';
import type { Layer } from './generation';
import { foldMatrix, reduceHeads, reduceMatrices, type HeadMatrices } from './matrices';
import type { ViewParameters } from '../protocol/data';
import { tokenLabel } from './tokens';
import { isMasked, type ViewData } from './viewData';
import { weightedLayer } from './weighting';

/** What the panel is told about a pinned run (its weights stay with the host): tokens, model, stacks. */
export function baselineOf(run: AttentionRun): Baseline | undefined {
  const started = run.started, source = run.sourceTokens();
  if (!started || !source) return undefined;
  return { source, target: run.targetTokens(), model: started.model, stacks: run.stacks() };
}

function describeModel(m: ModelInfo): string {
  return `${m.name} (${m.numLayers} layer${m.numLayers === 1 ? '' : 's'} × ${m.numHeads} heads)`;
}

/** Why this baseline cannot be compared with the current run's `stack`, or undefined when it can. */
export function comparisonProblem(current: ModelInfo, baseline: Baseline, stack: AttentionStack): string | undefined {
  const b = baseline.model;
  if (b.name !== current.name || b.modelType !== current.modelType || b.kind !== current.kind || b.numLayers !== current.numLayers || b.numHeads !== current.numHeads) {
    return `Not compared: the baseline comes from ${describeModel(b)}, this run from ${describeModel(current)}. Weights of different models do not correspond; pin a run of ${current.name} as the baseline.`;
  }
  if (!baseline.stacks.includes(stack)) {
    return `Not compared: the baseline has no ${stack} attention (it was run ${baseline.target ? 'with' : 'without'} a target). Pin a run of the same kind as the baseline.`;
  }
  return undefined;
}

export interface RemovedToken {
  /** Model token index in the baseline. */
  readonly index: number;
  readonly label: string;
}

export interface DiffData {
  /** current − baseline, shaped like ViewData.matrices; NaN where the query or the key has no counterpart. */
  readonly delta: HeadMatrices;
  /** |delta| with NaN as 0: what the head view selects lines by. */
  readonly magnitude: HeadMatrices;
  /** Per display token: 1 when it (or a token merged into it) is new since the baseline. */
  readonly queryAdded: Uint8Array;
  readonly keyAdded: Uint8Array;
  /** Baseline tokens without a counterpart on the query side and on the key side. */
  readonly removedQueries: readonly RemovedToken[];
  readonly removedKeys: readonly RemovedToken[];
  /** Largest |delta| of each head-axis index (NaN cells skipped). */
  readonly headMaxAbs: Float32Array;
}

function baselineTokens(baseline: Baseline, stack: AttentionStack, side: 'query' | 'key'): PanelTokens | undefined {
  const decoderSide = side === 'query' ? stack === 'decoder' || stack === 'cross' : stack === 'decoder';
  return decoderSide ? baseline.target : baseline.source;
}

/**
 * Computes differences on demand where both runs' weights are (the host, or a report page), cached by
 * what they are made of (the baseline run and the view's matrices).
 */
export class DiffSource {
  private readonly diffs = new WeakMap<AttentionRun, WeakMap<HeadMatrices, DiffData>>();
  private readonly alignments = new WeakMap<PanelTokens, WeakMap<PanelTokens, TokenAlignment>>();

  /** `sinks`: the current run's sink positions, hidden on both sides when the parameters say so. */
  get(run: AttentionRun, baseline: AttentionRun, p: ViewParameters, data: ViewData, sinks: readonly number[] = []): DiffData | undefined {
    const started = run.started, info = baselineOf(baseline);
    if (!started || !info || comparisonProblem(started.model, info, data.stack)) return undefined;
    let byMatrices = this.diffs.get(baseline);
    if (!byMatrices) this.diffs.set(baseline, (byMatrices = new WeakMap()));
    let diff = byMatrices.get(data.matrices);
    if (!diff) {
      diff = this.compute(run, baseline, info, p, data, sinks);
      if (diff) byMatrices.set(data.matrices, diff);
    }
    return diff;
  }

  alignment(baseline: PanelTokens, current: PanelTokens): TokenAlignment {
    let byCurrent = this.alignments.get(baseline);
    if (!byCurrent) this.alignments.set(baseline, (byCurrent = new WeakMap()));
    let alignment = byCurrent.get(current);
    if (!alignment) byCurrent.set(current, (alignment = alignTokens(baseline.tokens, current.tokens)));
    return alignment;
  }

  private compute(run: AttentionRun, baselineRun: AttentionRun, baseline: Baseline, p: ViewParameters, data: ViewData, sinks: readonly number[]): DiffData | undefined {
    const stack = data.stack;
    const currentQueries = run.queryTokens(stack), currentKeys = run.keyTokens(stack);
    const baseQueries = baselineTokens(baseline, stack, 'query'), baseKeys = baselineTokens(baseline, stack, 'key');
    if (!currentQueries || !currentKeys || !baseQueries || !baseKeys) return undefined;
    const queryAlign = this.alignment(baseQueries, currentQueries), keyAlign = this.alignment(baseKeys, currentKeys);
    // The baseline weighed as the current run is: its own value norms, the same tokens hidden as sinks.
    const baselineSinks = sinks.map((s) => keyAlign.currentToBaseline[s]).filter((s) => s >= 0);
    const numbers = p.layerReduction === 'single' ? [p.layer] : Array.from({ length: baselineRun.layerCount(stack) }, (_, l) => l);
    const layers = numbers.map((l) => {
      const layer = baselineRun.layerData(stack, l);
      return layer && weightedLayer(layer, p, baselineSinks);
    }).filter((l): l is Layer => l !== undefined);
    if (layers.length === 0) return undefined;
    const reduced = reduceMatrices(layers.map(layerMatrices), p.layerReduction === 'max' ? 'max' : 'mean');
    let base = project(reduced, queryAlign.currentToBaseline, keyAlign.currentToBaseline);
    if (!data.queries.identity || !data.keys.identity) base = foldMatrix(base, data.queries.groups, data.keys.groups);
    if (p.headMode !== 'each') base = reduceHeads(base, p.heads, p.headMode === 'max' ? 'max' : 'mean');

    const queryAdded = Uint8Array.from(data.queries.groups, (g) => +g.some((t) => queryAlign.currentToBaseline[t] < 0));
    const keyAdded = Uint8Array.from(data.keys.groups, (g) => +g.some((t) => keyAlign.currentToBaseline[t] < 0));
    const m = data.matrices;
    const delta = new Float32Array(m.data.length), magnitude = new Float32Array(m.data.length);
    const headMaxAbs = new Float32Array(m.heads);
    for (let h = 0; h < m.heads; h++) {
      for (let r = 0; r < m.rows; r++) {
        for (let c = 0, i = (h * m.rows + r) * m.cols; c < m.cols; c++, i++) {
          if (queryAdded[r] || keyAdded[c]) {
            delta[i] = NaN;
            continue;
          }
          delta[i] = m.data[i] - base.data[i];
          magnitude[i] = Math.abs(delta[i]);
          if (magnitude[i] > headMaxAbs[h]) headMaxAbs[h] = magnitude[i];
        }
      }
    }
    const removed = (alignment: TokenAlignment, tokens: PanelTokens) => Array.from(alignment.baselineToCurrent.entries())
      .filter(([, current]) => current < 0).map(([index]) => ({ index, label: tokenLabel(tokens.tokens[index]) }));
    return {
      delta: { ...m, data: delta }, magnitude: { ...m, data: magnitude }, queryAdded, keyAdded, headMaxAbs,
      removedQueries: removed(queryAlign, baseQueries), removedKeys: removed(keyAlign, baseKeys),
    };
  }
}

/** The baseline's weights moved to the current tokens' positions; 0 where a current token has no counterpart. */
function project(m: HeadMatrices, rowFrom: Int32Array, colFrom: Int32Array): HeadMatrices {
  const rows = rowFrom.length, cols = colFrom.length;
  const out = new Float32Array(m.heads * rows * cols);
  for (let h = 0; h < m.heads; h++) {
    for (let r = 0; r < rows; r++) {
      const from = rowFrom[r];
      if (from < 0) continue;
      const source = (h * m.rows + from) * m.cols, target = (h * rows + r) * cols;
      for (let c = 0; c < cols; c++) if (colFrom[c] >= 0) out[target + c] = m.data[source + colFrom[c]];
    }
  }
  return { heads: m.heads, rows, cols, data: out };
}

/** The largest |delta| over the given head-axis indices: the diverging scale's end. */
export function maxAbsOf(diff: DiffData, heads: readonly number[]): number {
  return heads.reduce((max, h) => Math.max(max, diff.headMaxAbs[h] ?? 0), 0);
}

export interface Change {
  /** Head-axis index (the head, or 0 for an aggregate). */
  readonly head: number;
  readonly query: number;
  readonly key: number;
  readonly delta: number;
  readonly current: number;
  readonly baseline: number;
}

/** The k cells of the shown heads whose weight changed most, largest |delta| first. */
export function largestChanges(diff: DiffData, data: ViewData, heads: readonly number[], k: number): Change[] {
  const { rows, cols } = diff.delta;
  const best: { index: number; size: number }[] = [];
  for (const h of heads) {
    // A head whose largest change cannot make the list is skipped whole.
    if (best.length === k && diff.headMaxAbs[h] <= best[k - 1].size) continue;
    for (let r = 0; r < rows; r++) {
      for (let c = 0, i = (h * rows + r) * cols; c < cols; c++, i++) {
        const size = diff.magnitude.data[i];
        if (size === 0 || (best.length === k && size <= best[k - 1].size) || isMasked(data, r, c)) continue;
        let at = best.length;
        while (at > 0 && size > best[at - 1].size) at--;
        best.splice(at, 0, { index: i, size });
        if (best.length > k) best.pop();
      }
    }
  }
  return best.map(({ index }) => {
    const head = Math.floor(index / (rows * cols)), query = Math.floor((index % (rows * cols)) / cols), key = index % cols;
    const current = data.matrices.data[index], delta = diff.delta.data[index];
    return { head, query, key, delta, current, baseline: current - delta };
  });
}
