/**
 * The head-role scores, one small function each: the readable definition that the fast per-layer pass
 * (headRoles.ts) is tested against. A is one head's probabilities [T_q, T_k]; in a self layout query
 * row i sits at key position p_i = (T_k − T_q) + i (p_i = i in a full run). NaN means "not defined
 * here"; headRoles.ts says why.
 */
import { AttentionProbabilities, StackLayout, headMatrix, queryPosition } from './probabilities';

export interface HeadProbabilities {
  /** [queryLength, keyLength], row-major. */
  readonly values: Float32Array;
  readonly queryLength: number;
  readonly keyLength: number;
}

export function headOf(layer: AttentionProbabilities, head: number): HeadProbabilities {
  return { values: headMatrix(layer, head), queryLength: layer.queryLength, keyLength: layer.keyLength };
}

const at = (A: HeadProbabilities, i: number, j: number) => A.values[i * A.keyLength + j];
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Keys query position p may attend to: p + 1 under a causal mask, every key otherwise. */
export function visibleKeys(layout: StackLayout, position: number, keyLength: number): number {
  return layout.relation === 'self' && layout.causal ? position + 1 : keyLength;
}

/** previous-token = mean over rows with p_i ≥ 1 of A[i, p_i − 1]. Self layouts only. */
export function previousTokenScore(A: HeadProbabilities, layout: StackLayout): number {
  if (layout.relation !== 'self') return NaN;
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) if (queryPosition(A, i) >= 1) terms.push(at(A, i, queryPosition(A, i) - 1));
  return mean(terms);
}

/** first-token share = mean over rows i of A[i, 0]. */
export function firstTokenScore(A: HeadProbabilities): number {
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) terms.push(at(A, i, 0));
  return mean(terms);
}

/** The mass each key position j draws: mean over rows i of A[i, j], a [keyLength] vector. */
export function keyShare(A: HeadProbabilities): Float64Array {
  const share = new Float64Array(A.keyLength);
  for (let j = 0; j < A.keyLength; j++) {
    for (let i = 0; i < A.queryLength; i++) share[j] += at(A, i, j);
    share[j] /= A.queryLength;
  }
  return share;
}

/** The sink: the key position drawing the most mean mass (the first such on a tie), and that mass. */
export function sinkOf(A: HeadProbabilities): { position: number; share: number } {
  const share = keyShare(A);
  let position = 0;
  for (let j = 1; j < share.length; j++) if (share[j] > share[position]) position = j;
  return { position, share: share[position] };
}

/** Row entropy −Σⱼ A[i,j]·ln A[i,j] in nats, with 0·ln 0 = 0. */
export function rowEntropy(A: HeadProbabilities, i: number): number {
  let h = 0;
  for (let j = 0; j < A.keyLength; j++) {
    const p = at(A, i, j);
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** entropy = mean over rows i of the row entropy (nats). */
export function entropyScore(A: HeadProbabilities): number {
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) terms.push(rowEntropy(A, i));
  return mean(terms);
}

/**
 * normalised entropy = mean over rows with n_i ≥ 2 visible keys of H_i / ln n_i, where n_i = p_i + 1
 * under a causal mask (the ln(i+1)) and T_k otherwise; 1 is a uniform row, 0 a one-hot row.
 * A row with one visible key (i = 0 in a causal run) has entropy 0 and nothing to normalise by: it
 * is left out, and a head with no other row scores NaN.
 */
export function normalisedEntropyScore(A: HeadProbabilities, layout: StackLayout): number {
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) {
    const n = visibleKeys(layout, queryPosition(A, i), A.keyLength);
    if (n >= 2) terms.push(rowEntropy(A, i) / Math.log(n));
  }
  return mean(terms);
}

/** mean attention distance = mean over rows i of Σⱼ A[i,j]·|p_i − j|, in positions. Self layouts only. */
export function meanDistanceScore(A: HeadProbabilities, layout: StackLayout): number {
  if (layout.relation !== 'self') return NaN;
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) {
    let d = 0;
    for (let j = 0; j < A.keyLength; j++) d += at(A, i, j) * Math.abs(queryPosition(A, i) - j);
    terms.push(d);
  }
  return mean(terms);
}

/**
 * duplicate-token = mean, over rows whose token occurred earlier (some j < p_i with id_j = id_{p_i}),
 * of Σ A[i,j] over those earlier copies j. NaN when no token repeats, in cross layouts and without ids.
 */
export function duplicateTokenScore(A: HeadProbabilities, layout: StackLayout): number {
  const ids = layout.keyIds;
  if (layout.relation !== 'self' || !ids) return NaN;
  const terms: number[] = [];
  for (let i = 0; i < A.queryLength; i++) {
    const p = queryPosition(A, i);
    const copies = [];
    for (let j = 0; j < p; j++) if (ids[j] === ids[p]) copies.push(j);
    if (copies.length) terms.push(copies.reduce((sum, j) => sum + at(A, i, j), 0));
  }
  return mean(terms);
}

