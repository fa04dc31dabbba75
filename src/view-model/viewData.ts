/**
 * From the run and the selection to what a view draws: display tokens and matrices reduced over layers
 * and heads and folded into words, cached so that hovering never recomputes them.
 */
import type { AttentionStack, LayerMessage } from '../protocol/messages';
import type { AttentionRun } from './attentionRun';
import type { Focus } from './links';
import { layerMatrices } from './attentionRun';
import { foldMatrix, reduceHeads, reduceMatrices, type HeadMatrices } from './matrices';
import { activeHeadIndices, type Selection } from './selection';
import { displayTokens, type DisplayTokens } from './tokens';

export interface ViewData {
  readonly stack: AttentionStack;
  readonly queries: DisplayTokens;
  readonly keys: DisplayTokens;
  /** All heads [numHeads, R, C] when heads are shown one by one, else [1, R, C] over the active heads. */
  readonly matrices: HeadMatrices;
  /** Head-axis indices to draw, and the number of active heads (the opacity divisor). */
  readonly heads: readonly number[];
  readonly activeCount: number;
  readonly causal: boolean;
  /** Last model token of each display query and first of each display key: cell (r, c) is masked when
   * causal and keyFirst[c] > queryLast[r]. */
  readonly queryLast: Int32Array;
  readonly keyFirst: Int32Array;
  /** "layer 3", "mean of 5 layers", … */
  readonly layerLabel: string;
  readonly headLabel: string;
}

const CACHE_LIMIT = 12;

export class ViewDataSource {
  private readonly cache = new Map<string, HeadMatrices>();
  private cacheRevision = '';

  /** The data for `stack` (default: the selection's), or undefined while its layer has not arrived. */
  get(run: AttentionRun, s: Selection, stack: AttentionStack = s.stack): ViewData | undefined {
    const queryTokens = run.queryTokens(stack), keyTokens = run.keyTokens(stack);
    const single = s.layerReduction === 'single' ? run.layer(stack, s.layer) : undefined;
    const layers = s.layerReduction === 'single' ? (single ? [single] : []) : run.layers(stack).filter((l): l is LayerMessage => l !== undefined);
    if (!queryTokens || !keyTokens || layers.length === 0) return undefined;
    if (this.cacheRevision !== run.revision) {
      this.cache.clear();
      this.cacheRevision = run.revision;
    }
    const options = { hideSpecial: s.hideSpecial, mergeWords: s.mergeWords };
    const queries = displayTokens(queryTokens, options);
    const keys = displayTokens(keyTokens, options);
    const layerKey = s.layerReduction === 'single' ? `${s.layer}` : `${s.layerReduction}:${layers.length}`;
    const base = `${stack}|${layerKey}|${s.hideSpecial}|${s.mergeWords}`;
    const perHead = this.cached(base, () => {
      const reduced = reduceMatrices(layers.map(layerMatrices), s.layerReduction === 'max' ? 'max' : 'mean');
      return queries.identity && keys.identity ? reduced : foldMatrix(reduced, queries.groups, keys.groups);
    });
    const active = activeHeadIndices(s);
    const matrices = s.headMode === 'each'
      ? perHead
      : this.cached(`${base}|${s.headMode}|${active.join(',')}`, () => reduceHeads(perHead, active, s.headMode === 'max' ? 'max' : 'mean'));
    const first = layers[0];
    return {
      stack, queries, keys, matrices,
      heads: s.headMode === 'each' ? active : active.length ? [0] : [],
      activeCount: s.headMode === 'each' ? active.length : 1,
      causal: first.causal,
      queryLast: Int32Array.from(queries.groups, (g) => g[g.length - 1]),
      keyFirst: Int32Array.from(keys.groups, (g) => g[0]),
      layerLabel: s.layerReduction === 'single' ? `layer ${s.layer}` : `${s.layerReduction} of ${layers.length} layer${layers.length === 1 ? '' : 's'}`,
      headLabel: s.headMode === 'each' ? `${active.length} of ${first.numHeads} heads` : `${s.headMode} of ${active.length} heads`,
    };
  }

  private cached(key: string, make: () => HeadMatrices): HeadMatrices {
    let value = this.cache.get(key);
    if (value) {
      // Re-insert: Map order doubles as least-recently-used order.
      this.cache.delete(key);
    } else {
      value = make();
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, value);
    return value;
  }
}

/** The focus if it names a token of this data (a focus from another stack or token setting may not). */
export function focusIn(data: ViewData, focus: Focus | null): Focus | null {
  if (!focus) return null;
  return focus.index < (focus.side === 'query' ? data.queries : data.keys).labels.length ? focus : null;
}

export function isMasked(data: ViewData, row: number, col: number): boolean {
  return data.causal && data.keyFirst[col] > data.queryLast[row];
}

/** For heatmaps: whether a block whose last query row and first key column are given is masked. */
export function maskTest(data: ViewData): ((lastRow: number, firstCol: number) => boolean) | undefined {
  return data.causal ? (lastRow, firstCol) => data.keyFirst[firstCol] > data.queryLast[lastRow] : undefined;
}
