/**
 * Every head-role score of one layer in one pass over each row (the definitions, one function each,
 * are in headRoleSpec.ts; the tests hold this pass to them). Float16 layers are read through lookup
 * tables: one for the value, one for −p·ln p, so entropy costs no logarithm per element. Under a
 * causal mask only the visible keys 0…p_i of a row are read: the masked ones are 0 and add nothing.
 */
import type { HeadScoreName as AnyHeadScoreName } from '../../protocol/data';
import { float16Table } from '../../protocol/float16';
import { visibleKeys } from './headRoleSpec';
import { AttentionProbabilities, StackLayout, checkShape, negativePLogPTable, probabilityAt, queryPosition } from './probabilities';

/** The per-head scores of one layer, each [numHeads]; NaN where a score is not defined (see undefinedScores). */
export interface LayerHeadRoles {
  readonly numHeads: number;
  readonly keyLength: number;
  readonly previousToken: Float64Array;
  readonly firstToken: Float64Array;
  /** The key position drawing the most mean mass, and that mass (sinkOf). */
  readonly sinkPosition: Int32Array;
  readonly sinkShare: Float64Array;
  readonly entropy: Float64Array;
  readonly entropyNormalised: Float64Array;
  readonly meanDistance: Float64Array;
  readonly duplicateToken: Float64Array;
  /** [numHeads, keyLength]: mean over rows of A[i, j] (keyShare), what detectSinks reads. */
  readonly keyShare: Float64Array;
}

/** The scores one pass over a layer gives (induction needs a run of its own: induction.ts). */
export type HeadScoreName = Exclude<AnyHeadScoreName, 'induction'>;

/** The scores in the order they are shown, each with how it is read from a layer's roles. */
export const HEAD_SCORES: readonly (readonly [name: HeadScoreName, read: (roles: LayerHeadRoles) => ArrayLike<number>])[] = [
  ['previous_token', (r) => r.previousToken],
  ['first_token', (r) => r.firstToken],
  ['sink_share', (r) => r.sinkShare],
  ['entropy', (r) => r.entropy],
  ['entropy_normalised', (r) => r.entropyNormalised],
  ['mean_distance', (r) => r.meanDistance],
  ['duplicate_token', (r) => r.duplicateToken],
];

const NO_POSITION = 'cross-attention: queries and keys are different sequences, so a query has no position among the keys';

/** Why a score is NaN for every head of a layer of this shape and layout; scores not listed are defined. */
export function undefinedScores(layout: StackLayout, queryLength: number, keyLength: number): Partial<Record<HeadScoreName, string>> {
  if (layout.relation === 'cross') return { previous_token: NO_POSITION, mean_distance: NO_POSITION, duplicate_token: NO_POSITION };
  const reasons: Partial<Record<HeadScoreName, string>> = {};
  const shape = { queryLength, keyLength };
  if (queryPosition(shape, queryLength - 1) < 1) reasons.previous_token = 'a single position has no previous token';
  if (visibleKeys(layout, queryPosition(shape, queryLength - 1), keyLength) < 2) reasons.entropy_normalised = 'every row sees one key, and ln 1 = 0 leaves nothing to normalise by';
  if (!layout.keyIds) reasons.duplicate_token = 'the token ids are not known';
  else if (earlierCopies(layout.keyIds, shape).rowsWithCopies === 0) reasons.duplicate_token = 'no token occurs twice';
  return reasons;
}

/** For each query row, the key positions before it that hold the same token id, flattened. */
function earlierCopies(ids: readonly number[], shape: { readonly queryLength: number; readonly keyLength: number }) {
  if (ids.length !== shape.keyLength) throw new RangeError(`${ids.length} token ids for ${shape.keyLength} key positions`);
  const seen = new Map<number, number[]>();
  const positions: number[] = [];
  const start = new Int32Array(shape.queryLength + 1);
  let rowsWithCopies = 0;
  for (let p = 0; p < shape.keyLength; p++) {
    let earlier = seen.get(ids[p]);
    if (!earlier) seen.set(ids[p], (earlier = []));
    const row = p - queryPosition(shape, 0);
    if (row >= 0) {
      for (const j of earlier) positions.push(j);
      start[row + 1] = positions.length;
      if (earlier.length) rowsWithCopies++;
    }
    earlier.push(p);
  }
  return { positions, start, rowsWithCopies };
}

/** Scratch for one row: [entropy, distance]. */
const rowSums = new Float64Array(2);

/** Adds the row's values into `share` from `shareAt`, and leaves its entropy and Σ p·|position − j| in rowSums. */
function scanRowF16(bits: Uint16Array, rowAt: number, visible: number, position: number, share: Float64Array, shareAt: number): void {
  const values = float16Table();
  const plogp = negativePLogPTable();
  let entropy = 0;
  let distance = 0;
  // No test for zero: a zero adds zero, and skipping the many underflowed entries costs mispredicted branches.
  for (let j = 0; j < visible; j++) {
    const b = bits[rowAt + j];
    const p = values[b];
    entropy += plogp[b];
    distance += p * Math.abs(position - j);
    share[shareAt + j] += p;
  }
  rowSums[0] = entropy;
  rowSums[1] = distance;
}

function scanRowF32(probs: Float32Array, rowAt: number, visible: number, position: number, share: Float64Array, shareAt: number): void {
  let entropy = 0;
  let distance = 0;
  for (let j = 0; j < visible; j++) {
    const p = probs[rowAt + j];
    if (p === 0) continue;
    if (p > 0) entropy -= p * Math.log(p);
    distance += p * Math.abs(position - j);
    share[shareAt + j] += p;
  }
  rowSums[0] = entropy;
  rowSums[1] = distance;
}

export function layerHeadRoles(layer: AttentionProbabilities, layout: StackLayout): LayerHeadRoles {
  checkShape(layer);
  const { numHeads, queryLength, keyLength, probs, probsF16 } = layer;
  const self = layout.relation === 'self';
  const copies = self && layout.keyIds ? earlierCopies(layout.keyIds, layer) : undefined;
  const valueAt = (index: number) => probabilityAt(layer, index);
  const roles = {
    numHeads, keyLength,
    previousToken: new Float64Array(numHeads), firstToken: new Float64Array(numHeads),
    sinkPosition: new Int32Array(numHeads), sinkShare: new Float64Array(numHeads),
    entropy: new Float64Array(numHeads), entropyNormalised: new Float64Array(numHeads),
    meanDistance: new Float64Array(numHeads), duplicateToken: new Float64Array(numHeads),
    keyShare: new Float64Array(numHeads * keyLength),
  };
  for (let h = 0; h < numHeads; h++) {
    let previous = 0, previousRows = 0, first = 0, entropy = 0, normalised = 0, normalisedRows = 0, distance = 0, duplicate = 0;
    for (let i = 0; i < queryLength; i++) {
      const rowAt = (h * queryLength + i) * keyLength;
      const position = self ? queryPosition(layer, i) : 0;
      const visible = visibleKeys(layout, position, keyLength);
      if (probsF16) scanRowF16(probsF16, rowAt, visible, position, roles.keyShare, h * keyLength);
      else scanRowF32(probs, rowAt, visible, position, roles.keyShare, h * keyLength);
      first += valueAt(rowAt);
      entropy += rowSums[0];
      distance += rowSums[1];
      if (visible >= 2) {
        normalised += rowSums[0] / Math.log(visible);
        normalisedRows++;
      }
      if (self && position >= 1) {
        previous += valueAt(rowAt + position - 1);
        previousRows++;
      }
      if (copies && copies.start[i + 1] > copies.start[i]) {
        let mass = 0;
        for (let c = copies.start[i]; c < copies.start[i + 1]; c++) mass += valueAt(rowAt + copies.positions[c]);
        duplicate += mass;
      }
    }
    roles.previousToken[h] = previousRows ? previous / previousRows : NaN;
    roles.firstToken[h] = first / queryLength;
    roles.entropy[h] = entropy / queryLength;
    roles.entropyNormalised[h] = normalisedRows ? normalised / normalisedRows : NaN;
    roles.meanDistance[h] = self ? distance / queryLength : NaN;
    roles.duplicateToken[h] = copies?.rowsWithCopies ? duplicate / copies.rowsWithCopies : NaN;
    const share = roles.keyShare.subarray(h * keyLength, (h + 1) * keyLength);
    let sink = 0;
    for (let j = 0; j < keyLength; j++) {
      share[j] /= queryLength;
      if (share[j] > share[sink]) sink = j;
    }
    roles.sinkPosition[h] = sink;
    roles.sinkShare[h] = share[sink];
  }
  return roles;
}
