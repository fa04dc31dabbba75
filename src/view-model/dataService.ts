/**
 * Answers the panel's data queries (src/protocol/data.ts) where a run's weights are: in the extension
 * host over its run store, in a standalone report over the embedded chunks. Each reply holds only what
 * one view draws: a view's reduced and folded matrices (and its difference from a baseline), the model
 * view's thumbnails, a generation step's rows, the step-by-step table of one head and query, or what
 * the analysis views show (head scores, sinks, induction, rollout, logit lens: from `analysis`).
 * Every weight is weighed as the query's options say (weighting.ts) before it is reduced or folded.
 */
import {
  FLOAT32_REPLY_LIMIT, THUMBNAIL_SIZE, type AnalysisQuery, type ComputationQuery, type DataQuery, type DataReply, type RolloutQuery, type StepQuery,
  type ThumbnailQuery, type ViewParameters, type WireMatrices,
} from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import { fromFloat16Bits, toFloat16Bits } from '../protocol/float16';
import { sinkPositions, type AnalysisSource } from './analysisSource';
import type { AttentionRun } from './attentionRun';
import { computeSteps, type StepLayer } from './computation';
import { baselineOf, comparisonProblem, DiffSource, type DiffData } from './diff';
import { stepRowMatrix } from './generation';
import { foldMatrix, reduceHeads, type HeadMatrices } from './matrices';
import { displayTokens, type DisplayTokens } from './tokens';
import { ViewDataSource, viewShape, type ViewData } from './viewData';
import { weightedLayer } from './weighting';

/** The exact vectors of one layer, or why they cannot be had (computed on demand by the engine). */
export type StepData = (stack: AttentionStack, layer: number) => Promise<StepLayer | string>;

export class DataService {
  private readonly views = new ViewDataSource();
  private readonly diffs = new DiffSource();

  constructor(private readonly run: AttentionRun) {}

  /** The pinned run the current one is compared with, if any. */
  baseline: AttentionRun | undefined;
  /** Where the step-by-step table's exact vectors come from, if anywhere. */
  stepData: StepData | undefined;
  /** Where head scores, sinks, induction, rollout and the logit lens come from, if anywhere. */
  analysis: AnalysisSource | undefined;

  async answer(query: DataQuery): Promise<DataReply | undefined> {
    switch (query.kind) {
      case 'view': {
        const data = this.views.forParameters(this.run, query, this.sinks(query));
        const diff = data && this.diff(data, query);
        if (!data || diff === null) return undefined;
        const rows = query.rows ? sliceRows(data.matrices, query.rows.start, query.rows.end) : data.matrices;
        const matrices = query.head !== undefined && rows.heads > 1 ? sliceHead(rows, query.head) : rows;
        return { kind: 'view', matrices: toWire(matrices, data.approximate), ...(diff && { diff: wireDiff(diff) }) };
      }
      case 'thumbnails':
        return this.thumbnails(query);
      case 'step':
        return this.step(query);
      case 'computation':
        return this.computation(query);
      case 'head-scores':
      case 'sinks':
      case 'induction':
      case 'rollout':
      case 'logit-lens':
        return this.analyze(query);
      default: {
        const unknown: never = query;
        throw new Error(`unknown data query ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * current − baseline when comparing and the baseline fits; undefined when there is nothing to compare;
   * null while the baseline's weights cannot be had (yet).
   */
  private diff(data: ViewData, p: ViewParameters): DiffData | undefined | null {
    const baseline = this.baseline && baselineOf(this.baseline), started = this.run.started;
    if (!p.compare || !this.baseline || !baseline || !started || comparisonProblem(started.model, baseline, p.stack)) return undefined;
    return this.diffs.get(this.run, this.baseline, p, data, this.sinks(p)) ?? null;
  }

  /** The sink positions to hide for these parameters (none unless they hide sinks). */
  private sinks(p: Pick<ViewParameters, 'stack' | 'hideSinks'>): number[] {
    return p.hideSinks ? sinkPositions(this.analysis, p.stack) : [];
  }

  private async analyze(query: AnalysisQuery): Promise<DataReply | undefined> {
    const analysis = this.analysis;
    if (!analysis) return undefined;
    switch (query.kind) {
      case 'head-scores':
        return analysis.headScores(query.stack, query);
      case 'sinks': {
        const sinks = analysis.sinks(query.stack);
        return sinks && { kind: 'sinks', stack: query.stack, sinks };
      }
      case 'induction':
        return analysis.induction(query.stack, query);
      case 'rollout':
        return this.rollout(analysis, query);
      case 'logit-lens':
        return analysis.logitLens();
    }
  }

  /** The rollout folded into the query's display tokens. */
  private async rollout(analysis: AnalysisSource, query: RolloutQuery): Promise<DataReply | undefined> {
    const matrix = await analysis.rollout(query.stack, query);
    if (matrix === undefined) return undefined;
    if (typeof matrix === 'string') return { kind: 'rollout', stack: query.stack, unavailable: matrix };
    const queryTokens = this.run.queryTokens(query.stack), keyTokens = this.run.keyTokens(query.stack);
    if (!queryTokens || !keyTokens) return undefined;
    const queries = displayTokens(queryTokens, query), keys = displayTokens(keyTokens, query);
    const folded = queries.identity && keys.identity ? matrix : foldMatrix(matrix, queries.groups, keys.groups);
    return { kind: 'rollout', stack: query.stack, matrix: toWire(folded) };
  }

  /** Every head of one layer folded into at most THUMBNAIL_SIZE blocks of display tokens per side. */
  private thumbnails(query: ThumbnailQuery): DataReply | undefined {
    const numHeads = this.run.started?.model.numHeads ?? 0;
    const p = { ...query, layerReduction: 'single' as const, headMode: 'each' as const, heads: Array.from({ length: numHeads }, (_, h) => h) };
    const shape = viewShape(this.run, p);
    const stored = this.run.layerData(query.stack, query.layer);
    const layer = stored && weightedLayer(stored, query, this.sinks(query));
    if (!shape || !layer) return undefined;
    const queries = blocks(shape.queries), keys = blocks(shape.keys);
    const full = { heads: layer.numHeads, rows: layer.queryLength, cols: layer.keyLength, data: layer.probs };
    const matrices = foldMatrix(full, queries.groups, keys.groups);
    const data: ViewData = {
      ...shape, queries, keys, matrices,
      queryLast: Int32Array.from(queries.groups, (g) => g[g.length - 1]), keyFirst: Int32Array.from(keys.groups, (g) => g[0]),
    };
    const diff = this.diff(data, { ...p, compare: query.compare });
    if (diff === null) return undefined;
    return {
      kind: 'thumbnails', matrices: toWire(matrices, true), queryLast: data.queryLast, keyFirst: data.keyFirst,
      ...(diff && { diff: { delta: toWire(diff.delta, true), headMaxAbs: diff.headMaxAbs } }),
    };
  }

  /** What step `step`'s query row attended to in each layer: one row per layer and shown head. */
  private step(query: StepQuery): DataReply | undefined {
    const started = this.run.started, keyTokens = this.run.keyTokens(query.stack);
    if (!started || !keyTokens) return undefined;
    const shape = viewShape(this.run, { ...query, layer: 0, layerReduction: 'single', compare: false });
    if (!shape) return undefined;
    const each = query.headMode === 'each';
    const numbers = Array.from({ length: started.model.numLayers }, (_, l) => l).filter((l) => this.run.stepLayer(query.stack, l, query.step));
    const layers: number[] = [];
    const rows: Float32Array[] = [];
    const sinks = this.sinks(query);
    for (const layer of numbers) {
      const stored = this.run.stepLayerData(query.stack, layer, query.step);
      const data = stored && weightedLayer(stored, query, sinks);
      if (!data) return undefined; // its weights are not there (yet)
      // The step's own query row: the last row of step 0's prompt layer, the only row of a later step.
      const m = stepRowMatrix(data, data.queryLength - 1, shape.keys.groups);
      const shown = each ? m : reduceHeads(m, query.heads, query.headMode === 'max' ? 'max' : 'mean');
      layers.push(layer);
      for (const head of each ? query.heads : [0]) rows.push(shown.data.subarray(head * shown.cols, (head + 1) * shown.cols));
    }
    const cols = rows[0]?.length ?? 0;
    const values = new Float32Array(rows.length * cols);
    rows.forEach((r, i) => values.set(r, i * cols));
    return { kind: 'step', layers, rows: toWire({ heads: 1, rows: rows.length, cols, data: values }, false) };
  }

  private async computation(query: ComputationQuery): Promise<DataReply> {
    if (!this.stepData) return { kind: 'computation', unavailable: 'This report carries no step-by-step data: open the run in VS Code to see it.' };
    const layer = await this.stepData(query.stack, query.layer);
    if (typeof layer === 'string') return { kind: 'computation', unavailable: layer };
    if (query.head >= layer.numHeads || query.query >= layer.queryLength) return { kind: 'computation', unavailable: 'That head or query is not in this layer.' };
    return { kind: 'computation', computation: computeSteps(layer, query.head, query.query) };
  }
}

/** Display tokens merged into at most THUMBNAIL_SIZE consecutive blocks. */
function blocks(tokens: DisplayTokens): DisplayTokens {
  const count = tokens.groups.length;
  if (count <= THUMBNAIL_SIZE) return tokens;
  const groups: number[][] = [];
  const labels: string[] = [];
  for (let b = 0; b < THUMBNAIL_SIZE; b++) {
    const from = Math.floor((b * count) / THUMBNAIL_SIZE), to = Math.floor(((b + 1) * count) / THUMBNAIL_SIZE);
    groups.push(tokens.groups.slice(from, to).flat());
    labels.push(`${tokens.labels[from]}…${tokens.labels[to - 1]}`);
  }
  const displayOf = new Int32Array(tokens.displayOf.length).fill(-1);
  groups.forEach((g, b) => g.forEach((t) => (displayOf[t] = b)));
  return { labels, groups, displayOf, identity: false };
}

/** Matrices for the wire: float32 when small, else float16 bits (`compact` allows float16 at any size). */
/** Rows [start, end) of every head (clamped to the matrices). */
export function sliceRows(m: HeadMatrices, start: number, end: number): HeadMatrices {
  const from = Math.max(0, Math.min(m.rows, start)), to = Math.max(from, Math.min(m.rows, end));
  const rows = to - from;
  const data = new Float32Array(m.heads * rows * m.cols);
  for (let h = 0; h < m.heads; h++) data.set(m.data.subarray((h * m.rows + from) * m.cols, (h * m.rows + to) * m.cols), h * rows * m.cols);
  return { heads: m.heads, rows, cols: m.cols, data };
}

/** One head of the stack, as [1, rows, cols] (clamped to the heads there are). */
function sliceHead(m: HeadMatrices, head: number): HeadMatrices {
  const h = Math.max(0, Math.min(m.heads - 1, head)), cells = m.rows * m.cols;
  return { heads: 1, rows: m.rows, cols: m.cols, data: m.data.slice(h * cells, (h + 1) * cells) };
}

function toWire(m: HeadMatrices, compact = false): WireMatrices {
  const half = compact ? m.data.byteLength > 4096 : m.data.byteLength > FLOAT32_REPLY_LIMIT;
  return { heads: m.heads, rows: m.rows, cols: m.cols, values: half ? toFloat16Bits(m.data) : m.data };
}

/** Matrices from the wire, and whether they went through float16. */
export function fromWire(w: WireMatrices): { matrices: HeadMatrices; approximate: boolean } {
  const approximate = w.values instanceof Uint16Array;
  const data = w.values instanceof Uint16Array ? fromFloat16Bits(w.values) : w.values;
  return { matrices: { heads: w.heads, rows: w.rows, cols: w.cols, data }, approximate };
}

function wireDiff(diff: DiffData): NonNullable<Extract<DataReply, { kind: 'view' }>['diff']> {
  return {
    delta: toWire(diff.delta), queryAdded: diff.queryAdded, keyAdded: diff.keyAdded,
    removedQueries: diff.removedQueries, removedKeys: diff.removedKeys, headMaxAbs: diff.headMaxAbs,
  };
}
