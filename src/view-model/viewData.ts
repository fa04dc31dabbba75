/**
 * From the run and the selection to what a view draws: display tokens and matrices reduced over layers
 * and heads and folded into words. The shape part (tokens, labels, masks) needs only the run's
 * messages; the matrices need its weights, so they are computed where the weights are (ViewDataSource:
 * the host, or a report page) and cached there, and the webview receives them (src/protocol/data.ts).
 */
import type { ViewParameters } from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import { layerMatrices, type AttentionRun } from './attentionRun';
import type { Layer } from './generation';
import type { Focus } from './links';
import { foldMatrix, reduceHeads, reduceMatrices, type HeadMatrices } from './matrices';
import { activeHeadIndices, type Selection } from './selection';
import { displayTokens, type DisplayTokens } from './tokens';
import { weightedLayer, weightingLabel } from './weighting';

/** Everything a view draws but the weights. */
export interface ViewShape {
  readonly stack: AttentionStack;
  readonly queries: DisplayTokens;
  readonly keys: DisplayTokens;
  /** Head-axis indices to draw, and the number of active heads (the opacity divisor). */
  readonly heads: readonly number[];
  readonly activeCount: number;
  readonly causal: boolean;
  /** Last model token of each display query and first of each display key: cell (r, c) is masked when
   * causal and keyFirst[c] > queryLast[r]. */
  readonly queryLast: Int32Array;
  readonly keyFirst: Int32Array;
  /** The layer's sliding window, if it has one: cell (r, c) is outside it when keyLast[c] ≤ queryFirst[r] − window. */
  readonly window?: number;
  readonly queryFirst: Int32Array;
  readonly keyLast: Int32Array;
  /** "layer 3", "mean of 5 layers", … */
  readonly layerLabel: string;
  readonly headLabel: string;
}

export interface ViewData extends ViewShape {
  /** All heads [numHeads, R, C] when heads are shown one by one, else [1, R, C] over the active heads. */
  readonly matrices: HeadMatrices;
  /** The weights went through float16 on their way here (values within 2⁻¹² relative). */
  readonly approximate?: boolean;
}

/** The selection's data-relevant part, for `stack` (default: the selection's). */
export function viewParameters(s: Selection, stack: AttentionStack = s.stack): ViewParameters {
  return {
    stack, layer: s.layer, layerReduction: s.layerReduction, headMode: s.headMode, heads: activeHeadIndices(s),
    hideSpecial: s.hideSpecial, mergeWords: s.mergeWords, compare: s.compare, valueWeighted: s.valueWeighted, hideSinks: s.hideSinks,
  };
}

/** A string that names the matrices of these parameters (a cache key). */
export function parametersKey(p: ViewParameters): string {
  return `${p.stack}|${p.layerReduction === 'single' ? p.layer : p.layerReduction}|${p.headMode}|${p.heads.join(',')}|${+p.hideSpecial}${+p.mergeWords}|${+p.valueWeighted}${+p.hideSinks}`;
}

/** The layers a view reduces: the one chosen, or every layer of the stack received so far. */
function layerNumbers(run: AttentionRun, p: ViewParameters): number[] {
  if (p.layerReduction === 'single') return run.layer(p.stack, p.layer) ? [p.layer] : [];
  return Array.from({ length: run.layerCount(p.stack) }, (_, l) => l).filter((l) => run.layer(p.stack, l));
}

/** The view's shape, or undefined while its layer has not arrived. */
export function viewShape(run: AttentionRun, p: ViewParameters): ViewShape | undefined {
  const queryTokens = run.queryTokens(p.stack), keyTokens = run.keyTokens(p.stack);
  const layers = layerNumbers(run, p);
  if (!queryTokens || !keyTokens || layers.length === 0) return undefined;
  const options = { hideSpecial: p.hideSpecial, mergeWords: p.mergeWords };
  const queries = displayTokens(queryTokens, options);
  const keys = displayTokens(keyTokens, options);
  const first = run.layer(p.stack, layers[0])!;
  // A band only where every layer shown has the same window (a mean over local and global layers has none).
  const window = sameWindow(layers.map((l) => run.layer(p.stack, l)!.window));
  const each = p.headMode === 'each';
  const weighting = weightingLabel(p);
  return {
    stack: p.stack, queries, keys,
    heads: each ? p.heads : p.heads.length ? [0] : [],
    activeCount: each ? p.heads.length : 1,
    causal: first.causal,
    queryLast: Int32Array.from(queries.groups, (g) => g[g.length - 1]),
    keyFirst: Int32Array.from(keys.groups, (g) => g[0]),
    queryFirst: Int32Array.from(queries.groups, (g) => g[0]),
    keyLast: Int32Array.from(keys.groups, (g) => g[g.length - 1]),
    ...(window !== undefined && { window }),
    layerLabel: p.layerReduction === 'single' ? `layer ${p.layer}` : `${p.layerReduction} of ${layers.length} layer${layers.length === 1 ? '' : 's'}`,
    headLabel: `${each ? `${p.heads.length} of ${first.numHeads} heads` : `${p.headMode} of ${p.heads.length} heads`}${weighting ? `, ${weighting}` : ''}`,
  };
}

/** Bytes of matrices kept per source: enough for a few views of a long run, bounded whatever the size. */
const CACHE_BYTES = 96 * 2 ** 20;

/** Computes views' matrices from a run's weights and keeps the recent ones. */
export class ViewDataSource {
  private readonly cache = new Map<string, HeadMatrices>();
  private cachedBytes = 0;
  private cacheRevision = '';

  /** The data for `stack` (default: the selection's), or undefined while its layers cannot be had. */
  get(run: AttentionRun, s: Selection, stack: AttentionStack = s.stack, sinks: readonly number[] = []): ViewData | undefined {
    return this.forParameters(run, viewParameters(s, stack), sinks);
  }

  /** `sinks`: the stack's sink positions, hidden when the parameters say so. */
  forParameters(run: AttentionRun, p: ViewParameters, sinks: readonly number[] = []): ViewData | undefined {
    const shape = viewShape(run, p);
    if (!shape) return undefined;
    if (this.cacheRevision !== run.revision) {
      this.clear();
      this.cacheRevision = run.revision;
    }
    const layers = layerNumbers(run, p).map((l) => {
      const layer = run.layerData(p.stack, l);
      return layer && weightedLayer(layer, p, sinks);
    });
    if (layers.some((l) => l === undefined)) return undefined;
    const data = layers as Layer[];
    const weighting = `${+p.valueWeighted}${p.hideSinks ? sinks.join(',') : ''}`;
    const base = `${p.stack}|${p.layerReduction === 'single' ? p.layer : `${p.layerReduction}:${data.length}`}|${p.hideSpecial}|${p.mergeWords}|${weighting}`;
    const perHead = this.cached(base, () => {
      const reduced = reduceMatrices(data.map(layerMatrices), p.layerReduction === 'max' ? 'max' : 'mean');
      return shape.queries.identity && shape.keys.identity ? reduced : foldMatrix(reduced, shape.queries.groups, shape.keys.groups);
    });
    const matrices = p.headMode === 'each'
      ? perHead
      : this.cached(`${base}|${p.headMode}|${p.heads.join(',')}`, () => reduceHeads(perHead, p.heads, p.headMode === 'max' ? 'max' : 'mean'));
    return { ...shape, matrices, approximate: data.some((l) => l.approximate) };
  }

  clear(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }

  private cached(key: string, make: () => HeadMatrices): HeadMatrices {
    let value = this.cache.get(key);
    if (value) {
      // Re-insert: Map order doubles as least-recently-used order.
      this.cache.delete(key);
    } else {
      value = make();
      this.cachedBytes += value.data.byteLength;
      while (this.cachedBytes > CACHE_BYTES && this.cache.size) {
        const [oldest, matrices] = this.cache.entries().next().value!;
        this.cache.delete(oldest);
        this.cachedBytes -= matrices.data.byteLength;
      }
    }
    this.cache.set(key, value);
    return value;
  }
}

/** The focus if it names a token of this data (a focus from another stack or token setting may not). */
export function focusIn(data: ViewShape, focus: Focus | null): Focus | null {
  if (!focus) return null;
  return focus.index < (focus.side === 'query' ? data.queries : data.keys).labels.length ? focus : null;
}

function sameWindow(windows: readonly (number | undefined)[]): number | undefined {
  return windows.every((w) => w === windows[0]) ? windows[0] : undefined;
}

export function isMasked(data: ViewShape, row: number, col: number): boolean {
  return data.causal && data.keyFirst[col] > data.queryLast[row];
}

/** True where the sliding window hides every key of column `col` from every query of row `row`. */
export function isOutsideWindow(data: ViewShape, row: number, col: number): boolean {
  return data.window !== undefined && data.keyLast[col] <= data.queryFirst[row] - data.window;
}

/** For heatmaps: whether a block whose first query row and last key column are given lies outside the window. */
export function windowTest(data: Pick<ViewShape, 'window' | 'queryFirst' | 'keyLast'>): ((firstRow: number, lastCol: number) => boolean) | undefined {
  const window = data.window;
  return window === undefined ? undefined : (firstRow, lastCol) => data.keyLast[lastCol] <= data.queryFirst[firstRow] - window;
}

/** For heatmaps: whether a block whose last query row and first key column are given is masked. */
export function maskTest(data: Pick<ViewShape, 'causal' | 'queryLast' | 'keyFirst'>): ((lastRow: number, firstCol: number) => boolean) | undefined {
  return data.causal ? (lastRow, firstCol) => data.keyFirst[firstCol] > data.queryLast[lastRow] : undefined;
}
