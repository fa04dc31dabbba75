/**
 * Which lines the head view draws: one per (head, query, key) with opacity = weight ÷ active heads (as in
 * BertViz), all of them for short inputs and only each query's strongest keys beyond a size, so 2,048
 * tokens stay interactive.
 */
import { matrixColumn, matrixRow, topIndices, type HeadMatrices } from './matrices';

/** Every key of a focused token gets a line up to this many keys; beyond, its TOP_K_FOCUSED strongest. */
export const ALL_LINKS_FOCUSED_MAX = 512;
export const TOP_K_FOCUSED = 32;
/** Without focus, every query draws all its lines up to this many keys; beyond, its TOP_K_UNFOCUSED. */
export const ALL_LINKS_UNFOCUSED_MAX = 64;
export const TOP_K_UNFOCUSED = 4;
/** Lines fainter than this are invisible anyway; skipping them keeps long inputs fast. */
export const MIN_OPACITY = 0.003;
/**
 * A focused token's strongest keys per head stay visible at least this much: over 2,048 keys a diffuse
 * row's weights are all ~1/2,048, and weight ÷ heads alone would draw nothing at all.
 */
export const FOCUSED_TOP_VISIBLE = 3;
export const FOCUSED_MIN_OPACITY = 0.06;

export type Side = 'query' | 'key';

export interface Focus {
  readonly side: Side;
  readonly index: number;
}

export interface Link {
  /** Index into the matrices' head axis (the head itself, or 0 for an aggregate). */
  readonly head: number;
  readonly query: number;
  readonly key: number;
  readonly weight: number;
  readonly opacity: number;
}

export interface LinkQuery {
  readonly matrices: HeadMatrices;
  /** Head-axis indices to draw. */
  readonly heads: readonly number[];
  /** Opacity divisor: the number of active heads (1 for an aggregate). */
  readonly activeCount: number;
  /** Opacity per unit of weight instead of 1 ÷ activeCount (differences: 1 ÷ the largest change). */
  readonly opacityPerWeight?: number;
  readonly focus: Focus | null;
  /** Query rows to draw when nothing is focused. */
  readonly rows: { readonly start: number; readonly end: number };
}

function strongest(values: Float32Array, allMax: number, topK: number): number[] {
  if (values.length <= allMax) return Array.from(values.keys());
  return topIndices(values, topK);
}

export function selectLinks(q: LinkQuery): Link[] {
  const links: Link[] = [];
  const divisor = Math.max(1, q.activeCount);
  const scale = (weight: number) => (q.opacityPerWeight === undefined ? weight / divisor : weight * q.opacityPerWeight);
  const push = (head: number, query: number, key: number, weight: number, floor = 0) => {
    const opacity = weight > 0 ? Math.max(scale(weight), floor) : 0;
    if (opacity >= MIN_OPACITY) links.push({ head, query, key, weight, opacity });
  };
  /** The focused token's lines: to keys (or from queries) in `values`, its top few kept visible. */
  const focused = (values: Float32Array, link: (other: number, weight: number, floor: number) => void) => {
    const top = new Set(topIndices(values, FOCUSED_TOP_VISIBLE));
    for (const other of strongest(values, ALL_LINKS_FOCUSED_MAX, TOP_K_FOCUSED)) link(other, values[other], top.has(other) ? FOCUSED_MIN_OPACITY : 0);
  };
  const { matrices: m, focus } = q;
  for (const head of q.heads) {
    if (focus?.side === 'query') {
      focused(matrixRow(m, head, focus.index), (key, weight, floor) => push(head, focus.index, key, weight, floor));
    } else if (focus?.side === 'key') {
      focused(matrixColumn(m, head, focus.index), (query, weight, floor) => push(head, query, focus.index, weight, floor));
    } else {
      for (let query = q.rows.start; query < q.rows.end; query++) {
        const row = matrixRow(m, head, query);
        for (const key of strongest(row, ALL_LINKS_UNFOCUSED_MAX, TOP_K_UNFOCUSED)) push(head, query, key, row[key]);
      }
    }
  }
  return links;
}

/** The summed weight per token on the other side of the focus, for highlighting token backgrounds. */
export function focusWeights(links: readonly Link[], focus: Focus, count: number, divisor: number): Float32Array {
  const out = new Float32Array(count);
  for (const link of links) out[focus.side === 'query' ? link.key : link.query] += link.weight / Math.max(1, divisor);
  return out;
}
