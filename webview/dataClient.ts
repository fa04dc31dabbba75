/**
 * The panel's side of the data queries: views ask synchronously for what they draw; what has arrived
 * is returned at once, anything else is asked for (once) and the views are drawn again when the reply
 * comes. Replies are kept by what they are of, within a byte budget, so hovering never asks again.
 */
import type { ComputationReply, DataQuery, DataReply, ThumbnailReply } from '../src/protocol/data';
import type { AttentionStack } from '../src/protocol/messages';
import type { AttentionRun } from '../src/view-model/attentionRun';
import { fromWire } from '../src/view-model/dataService';
import type { DiffData } from '../src/view-model/diff';
import type { HeadMatrices } from '../src/view-model/matrices';
import type { Selection } from '../src/view-model/selection';
import { parametersKey, viewParameters, viewShape, type ViewData } from '../src/view-model/viewData';

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

export class DataClient {
  private readonly replies = new Map<string, { value: unknown; bytes: number }>();
  private readonly asked = new Set<string>();
  private bytes = 0;
  private generation = 0;
  private inFlight = 0;

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
    const key = `view|${this.runKey(run, p.layerReduction !== 'single')}|${parametersKey(p)}|${+p.compare}`;
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

  private readonly diffs = new WeakMap<ViewData, DiffData>();

  /** current − baseline of a view's data, when the host compared it. */
  diff(data: ViewData): DiffData | undefined {
    return this.diffs.get(data);
  }

  thumbnails(run: AttentionRun, s: Selection, layer: number): Thumbnails | undefined {
    const query = { kind: 'thumbnails' as const, stack: s.stack, layer, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords, compare: s.compare };
    if (!run.layer(s.stack, layer)) return undefined;
    const key = `thumbs|${this.runKey(run, false)}|${s.stack}|${layer}|${+s.hideSpecial}${+s.mergeWords}|${+s.compare}`;
    return this.fetch(run, key, query, (r) => (r.kind === 'thumbnails' ? thumbnailsOf(r) : undefined));
  }

  step(run: AttentionRun, s: Selection, stack: AttentionStack, step: number, heads: readonly number[]): StepRows | undefined {
    const query = { kind: 'step' as const, stack, step, headMode: s.headMode, heads, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords };
    const key = `step|${this.runKey(run, true)}|${stack}|${step}|${s.headMode}|${heads.join(',')}|${+s.hideSpecial}${+s.mergeWords}`;
    return this.fetch(run, key, query, (r) => (r.kind === 'step' ? { layers: r.layers, rows: fromWire(r.rows).matrices } : undefined));
  }

  computation(run: AttentionRun, stack: AttentionStack, layer: number, head: number, query: number): ComputationReply | undefined {
    const key = `computation|${this.runKey(run, false)}|${stack}|${layer}|${head}|${query}`;
    return this.fetch(run, key, { kind: 'computation', stack, layer, head, query }, (r) => (r.kind === 'computation' ? r : undefined));
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
    }).finally(() => this.pending(--this.inFlight));
    return undefined;
  }

  private remember(key: string, value: unknown): void {
    const bytes = byteSize(value);
    this.replies.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.replies) {
      if (this.bytes <= CACHE_BYTES || oldest === key) break;
      this.replies.delete(oldest);
      this.bytes -= entry.bytes;
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

function byteSize(value: unknown): number {
  let bytes = 256;
  const visit = (v: unknown, depth: number) => {
    if (ArrayBuffer.isView(v)) bytes += v.byteLength;
    else if (v && typeof v === 'object' && depth < 3) for (const inner of Object.values(v)) visit(inner, depth + 1);
  };
  visit(value, 0);
  return bytes;
}
