/**
 * The panel's side of the data queries: views ask synchronously for what they draw; what has arrived
 * is returned at once, anything else is asked for (once) and the views are drawn again when the reply
 * comes. Replies are kept by what they are of, within a byte budget, so hovering never asks again.
 */
import {
  VIEW_ROW_CHUNK, type ComputationReply, type DataQuery, type DataReply, type HeadScoresReply, type InductionReply, type LogitLensReply, type SinkInfo,
  type ThumbnailReply, type WeightOptions,
} from '../src/protocol/data';
import type { AttentionStack } from '../src/protocol/messages';
import type { AttentionRun } from '../src/view-model/attentionRun';
import { fromWire } from '../src/view-model/dataService';
import type { DiffData } from '../src/view-model/diff';
import type { RowRange } from '../src/view-model/layout';
import type { HeadMatrices } from '../src/view-model/matrices';
import type { Selection } from '../src/view-model/selection';
import { parametersKey, viewParameters, viewShape, type ViewData, type ViewShape } from '../src/view-model/viewData';
import { weightingLabel } from '../src/view-model/weighting';

/** Asks whoever holds the run's weights (the host, or the report page). */
export type Ask = (runId: number, query: DataQuery) => Promise<DataReply | undefined>;

/** A view's thumbnails: every head of one layer, folded into blocks. */
export interface Thumbnails {
  readonly matrices: HeadMatrices;
  readonly queryLast: Int32Array;
  readonly keyFirst: Int32Array;
  readonly diff?: { readonly delta: HeadMatrices; readonly headMaxAbs: Float32Array };
}

export interface StepRows {
  readonly layers: readonly number[];
  readonly rows: HeadMatrices;
}

const CACHE_BYTES = 64 * 2 ** 20;
/** Views of more values than this are fetched by rows (the head view's); smaller ones whole. */
const WINDOW_ABOVE = 2 ** 21;

/** A view filled chunk by chunk: its matrix stack (every head, or one), and which row chunks have arrived. */
interface Windowed {
  readonly key: string;
  /** Tells a holder made again (after the cache let the first go) from the first. */
  readonly serial: number;
  readonly data: ViewData;
  /** Per row chunk: 1 once arrived. */
  readonly loaded: Uint8Array;
  approximate: boolean;
}

export class DataClient {
  private readonly replies = new Map<string, { value: unknown; bytes: number }>();
  private readonly asked = new Set<string>();
  private bytes = 0;
  private generation = 0;
  private inFlight = 0;
  private serial = 0;
  /** Whether a baseline is shown: then views come whole, with their differences. */
  comparing = false;

  /** `arrived`: a reply came (draw again); `pending`: how many queries are on their way changed. */
  constructor(private readonly ask: Ask, private readonly arrived: () => void, private readonly pending: (count: number) => void = () => undefined) {}

  /** Forgets everything (a new run, a new baseline). */
  reset(): void {
    this.replies.clear();
    this.asked.clear();
    this.bytes = 0;
    this.generation++;
  }

  /** The data of `stack` (default: the selection's), or undefined while it is on its way. */
  get(run: AttentionRun, s: Selection, stack: AttentionStack = s.stack): ViewData | undefined {
    const p = viewParameters(s, stack);
    const shape = viewShape(run, p);
    if (!shape) return undefined;
    const key = `view|${this.runKey(run, p.layerReduction !== 'single' || p.hideSinks)}|${parametersKey(p)}|${+p.compare}`;
    const reply = this.fetch(run, key, { kind: 'view', ...p }, (r) => {
      if (r.kind !== 'view') return undefined;
      const { matrices, approximate } = fromWire(r.matrices);
      return { matrices, approximate, diff: r.diff && diffOf(r.diff) };
    });
    if (!reply) return undefined;
    const data: ViewData = { ...shape, matrices: reply.matrices, approximate: reply.approximate };
    if (reply.diff) this.diffs.set(data, reply.diff);
    return data;
  }

  /**
   * The data of `stack` for a view that draws part of it: some query rows (the head view, the rows in
   * sight) or one head (the matrix view). A long run's matrices then arrive a chunk of rows at a time,
   * those drawn first, instead of every head's whole matrix. Rows not arrived yet read as 0. Undefined
   * until the part drawn has arrived. Small views, and comparisons, come whole (as `get`).
   */
  windowed(run: AttentionRun, s: Selection, stack: AttentionStack, rowsInSight: (rowCount: number) => RowRange, onlyHead?: number): ViewData | undefined {
    const p = viewParameters(s, stack);
    const shape = viewShape(run, p);
    if (!shape) return undefined;
    const rows = shape.queries.labels.length, cols = shape.keys.labels.length;
    const heads = p.headMode === 'each' ? ((run.layer(stack, p.layer) ?? run.layer(stack, 0))?.numHeads ?? 1) : 1;
    if ((p.compare && this.comparing) || heads * rows * cols <= WINDOW_ABOVE) return this.get(run, s, stack);
    // One head asked for: the matrices hold that head alone ([1, rows, cols]).
    const head = onlyHead === undefined || heads === 1 ? undefined : Math.min(heads - 1, onlyHead);
    const held = this.holder(`window|${this.runKey(run, p.layerReduction !== 'single' || p.hideSinks)}|${parametersKey(p)}|${head ?? 'all'}`, shape, head === undefined ? heads : 1, rows, cols);
    const sight = rowsInSight(rows);
    const first = Math.floor(sight.start / VIEW_ROW_CHUNK), last = Math.min(held.loaded.length - 1, Math.floor(Math.max(sight.start, sight.end - 1) / VIEW_ROW_CHUNK));
    // The chunks drawn, then one on each side (what a scroll reaches next).
    for (const chunk of [...Array.from({ length: last - first + 1 }, (_, i) => first + i), first - 1, last + 1]) {
      if (chunk < 0 || chunk >= held.loaded.length || held.loaded[chunk]) continue;
      this.fetchChunk(run, held, { kind: 'view', ...p, rows: { start: chunk * VIEW_ROW_CHUNK, end: Math.min(rows, (chunk + 1) * VIEW_ROW_CHUNK) }, ...(head === undefined ? {} : { head }) }, chunk);
    }
    for (let chunk = first; chunk <= last; chunk++) if (!held.loaded[chunk]) return undefined;
    return { ...held.data, approximate: held.approximate };
  }

  /** The holder of a windowed view (made, and kept in the cache, on first use). */
  private holder(key: string, shape: ViewShape, heads: number, rows: number, cols: number): Windowed {
    const kept = this.replies.get(key)?.value as Windowed | undefined;
    if (kept) return kept;
    const matrices = { heads, rows, cols, data: new Float32Array(heads * rows * cols) };
    const made: Windowed = { key, serial: ++this.serial, data: { ...shape, matrices }, loaded: new Uint8Array(Math.ceil(rows / VIEW_ROW_CHUNK)), approximate: false };
    this.remember(key, made);
    return made;
  }

  private fetchChunk(run: AttentionRun, held: Windowed, query: Extract<DataQuery, { kind: 'view' }>, chunk: number): void {
    const askedKey = `${held.key}|${held.serial}|${chunk}|${run.layersReceived}|${run.state}`;
    if (this.asked.has(askedKey)) return;
    this.asked.add(askedKey);
    const generation = this.generation;
    this.pending(++this.inFlight);
    void this.ask(run.id, query).then((reply) => {
      if (generation !== this.generation || reply?.kind !== 'view' || this.replies.get(held.key)?.value !== held) return;
      const { matrices, approximate } = fromWire(reply.matrices);
      const target = held.data.matrices;
      if (matrices.heads !== target.heads || matrices.cols !== target.cols) return;
      const size = matrices.rows * matrices.cols;
      for (let h = 0; h < target.heads; h++) target.data.set(matrices.data.subarray(h * size, (h + 1) * size), (h * target.rows + query.rows!.start) * target.cols);
      held.loaded[chunk] = 1;
      held.approximate ||= approximate;
      this.arrived();
    }).finally(() => this.replySettled());
  }

  /** As `get`, waiting for the reply: what an export of a long head view needs (every row). */
  async whole(run: AttentionRun, s: Selection, stack: AttentionStack = s.stack): Promise<ViewData | undefined> {
    for (;;) {
      const data = this.get(run, s, stack);
      if (data || !this.inFlight) return data;
      await new Promise<void>((resolve) => this.settled.push(resolve));
    }
  }

  /** Resolved whenever a reply has been handled. */
  private settled: (() => void)[] = [];

  private readonly diffs = new WeakMap<ViewData, DiffData>();

  /** current − baseline of a view's data, when the host compared it. */
  diff(data: ViewData): DiffData | undefined {
    return this.diffs.get(data);
  }

  thumbnails(run: AttentionRun, s: Selection, layer: number): Thumbnails | undefined {
    const query = { kind: 'thumbnails' as const, stack: s.stack, layer, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords, compare: s.compare, ...weights(s) };
    if (!run.layer(s.stack, layer)) return undefined;
    // Hidden sinks are those of the layers so far: the thumbnails follow them as layers arrive.
    const key = `thumbs|${this.runKey(run, s.hideSinks)}|${s.stack}|${layer}|${+s.hideSpecial}${+s.mergeWords}|${+s.compare}|${weightKey(s)}`;
    return this.fetch(run, key, query, (r) => (r.kind === 'thumbnails' ? thumbnailsOf(r) : undefined));
  }

  step(run: AttentionRun, s: Selection, stack: AttentionStack, step: number, heads: readonly number[]): StepRows | undefined {
    const query = { kind: 'step' as const, stack, step, headMode: s.headMode, heads, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords, ...weights(s) };
    const key = `step|${this.runKey(run, true)}|${stack}|${step}|${s.headMode}|${heads.join(',')}|${+s.hideSpecial}${+s.mergeWords}|${weightKey(s)}`;
    return this.fetch(run, key, query, (r) => (r.kind === 'step' ? { layers: r.layers, rows: fromWire(r.rows).matrices } : undefined));
  }

  computation(run: AttentionRun, stack: AttentionStack, layer: number, head: number, query: number): ComputationReply | undefined {
    const key = `computation|${this.runKey(run, false)}|${stack}|${layer}|${head}|${query}`;
    return this.fetch(run, key, { kind: 'computation', stack, layer, head, query }, (r) => (r.kind === 'computation' ? r : undefined));
  }

  /** Every head's role scores over the layers of `stack`, weighed as the selection weighs attention. */
  headScores(run: AttentionRun, s: Selection, stack: AttentionStack): HeadScoresReply | undefined {
    const key = `scores|${this.runKey(run, true)}|${stack}|${weightKey(s)}`;
    return this.fetch(run, key, { kind: 'head-scores', stack, ...weights(s) }, (r) => (r.kind === 'head-scores' ? r : undefined));
  }

  /** The induction recipe's scores (a run of its own, made when first asked for). */
  induction(run: AttentionRun, s: Selection, stack: AttentionStack): InductionReply | undefined {
    const key = `induction|${this.runKey(run, false)}|${stack}|${weightKey(s)}`;
    return this.fetch(run, key, { kind: 'induction', stack, ...weights(s) }, (r) => (r.kind === 'induction' ? r : undefined));
  }

  /** The sinks detected in `stack` so far. */
  sinks(run: AttentionRun, stack: AttentionStack): readonly SinkInfo[] | undefined {
    const key = `sinks|${this.runKey(run, true)}|${stack}`;
    return this.fetch(run, key, { kind: 'sinks', stack }, (r) => (r.kind === 'sinks' ? r.sinks : undefined));
  }

  /** The rollout of `stack` as a view draws it, or why there is none. */
  rollout(run: AttentionRun, s: Selection, stack: AttentionStack): ViewData | string | undefined {
    const p = { ...viewParameters(s, stack), layerReduction: 'mean' as const, headMode: 'mean' as const, compare: false };
    const shape = viewShape(run, p);
    if (!shape) return undefined;
    const key = `rollout|${this.runKey(run, true)}|${stack}|${+s.hideSpecial}${+s.mergeWords}|${weightKey(s)}`;
    const reply = this.fetch(run, key, { kind: 'rollout', stack, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords, ...weights(s) }, (r) => (r.kind === 'rollout' ? r : undefined));
    if (!reply) return undefined;
    if (!reply.matrix) return reply.unavailable ?? 'No rollout for this run.';
    const layers = run.layerCount(stack === 'cross' ? 'decoder' : stack);
    const weighting = weightingLabel(s);
    return {
      ...shape, matrices: fromWire(reply.matrix).matrices, heads: [0], activeCount: 1,
      layerLabel: `rollout through ${layers} layer${layers === 1 ? '' : 's'}${stack === 'cross' ? ' (decoder, from the source tokens)' : ''}`,
      headLabel: `all heads${weighting ? `, ${weighting}` : ''}`,
    };
  }

  logitLens(run: AttentionRun): LogitLensReply | undefined {
    return this.fetch(run, `lens|${this.runKey(run, false)}`, { kind: 'logit-lens' }, (r) => (r.kind === 'logit-lens' ? r : undefined));
  }

  /** What makes a reply current: the run, its steps, and (for data over every layer) how many have arrived. */
  private runKey(run: AttentionRun, growing: boolean): string {
    return `${this.generation}|${run.revision}${growing ? `|${run.layersReceived}` : ''}`;
  }

  private fetch<T>(run: AttentionRun, key: string, query: DataQuery, read: (reply: DataReply) => T | undefined): T | undefined {
    const kept = this.replies.get(key);
    if (kept) {
      this.replies.delete(key);
      this.replies.set(key, kept);
      return kept.value as T;
    }
    // A reply without data (not there yet) is asked again once the run has moved on.
    const askedKey = `${key}|${run.layersReceived}|${run.state}`;
    if (this.asked.has(askedKey)) return undefined;
    this.asked.add(askedKey);
    const generation = this.generation;
    this.pending(++this.inFlight);
    void this.ask(run.id, query).then((reply) => {
      const value = generation === this.generation && reply ? read(reply) : undefined;
      if (value !== undefined) {
        this.remember(key, value);
        this.arrived();
      }
    }).finally(() => this.replySettled());
    return undefined;
  }

  private replySettled(): void {
    this.pending(--this.inFlight);
    const waiting = this.settled;
    this.settled = [];
    for (const resolve of waiting) resolve();
  }

  private remember(key: string, value: unknown): void {
    const bytes = byteSize(value);
    this.replies.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.replies) {
      if (this.bytes <= CACHE_BYTES || oldest === key) break;
      this.replies.delete(oldest);
      this.bytes -= entry.bytes;
      // What the cache let go is asked for again when a view needs it.
      for (const asked of this.asked) if (asked.startsWith(`${oldest}|`)) this.asked.delete(asked);
    }
  }
}

/** The difference a view reply carries, with |delta| (NaN as 0) for the head view's line choice. */
function diffOf(w: NonNullable<Extract<DataReply, { kind: 'view' }>['diff']>): DiffData {
  const { matrices: delta } = fromWire(w.delta);
  const magnitude = { ...delta, data: delta.data.map((d) => (Number.isNaN(d) ? 0 : Math.abs(d))) };
  return { delta, magnitude, queryAdded: w.queryAdded, keyAdded: w.keyAdded, removedQueries: w.removedQueries, removedKeys: w.removedKeys, headMaxAbs: w.headMaxAbs };
}

function thumbnailsOf(r: ThumbnailReply): Thumbnails {
  return {
    matrices: fromWire(r.matrices).matrices, queryLast: r.queryLast, keyFirst: r.keyFirst,
    diff: r.diff && { delta: fromWire(r.diff.delta).matrices, headMaxAbs: r.diff.headMaxAbs },
  };
}

function weights(s: WeightOptions): WeightOptions {
  return { valueWeighted: s.valueWeighted, hideSinks: s.hideSinks };
}

const weightKey = (s: WeightOptions) => `${+s.valueWeighted}${+s.hideSinks}`;

function byteSize(value: unknown): number {
  let bytes = 256;
  const visit = (v: unknown, depth: number) => {
    if (ArrayBuffer.isView(v)) bytes += v.byteLength;
    else if (v && typeof v === 'object' && depth < 3) for (const inner of Object.values(v)) visit(inner, depth + 1);
  };
  visit(value, 0);
  return bytes;
}
