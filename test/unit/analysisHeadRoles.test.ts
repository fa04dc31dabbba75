/** Head-role scores: each definition on hand-made heads with known answers, then the fast pass against them. */
import * as assert from 'assert';
import {
  duplicateTokenScore, entropyScore, firstTokenScore, headOf, meanDistanceScore, normalisedEntropyScore, previousTokenScore, sinkOf,
} from '../../src/engine/analysis/headRoleSpec';
import { LayerHeadRoles, layerHeadRoles, undefinedScores } from '../../src/engine/analysis/headRoles';
import type { AttentionProbabilities, StackLayout } from '../../src/engine/analysis/probabilities';
import { seededUniform } from '../../src/engine/demo/demoWeights';
import { AttentionShape, assertNumbersClose, layerFromRows, layerOf, peakedAttention } from './analysisTestData';

const causal = (keyIds?: number[]): StackLayout => ({ relation: 'self', causal: true, keyIds });
const bidirectional = (keyIds?: number[]): StackLayout => ({ relation: 'self', causal: false, keyIds });
const cross: StackLayout = { relation: 'cross', causal: false };

/** Every score of one head by the definitions. */
function specScores(layer: AttentionProbabilities, layout: StackLayout, head: number) {
  const A = headOf(layer, head);
  const spec = {
    previousToken: previousTokenScore(A, layout), firstToken: firstTokenScore(A), sink: sinkOf(A), entropy: entropyScore(A),
    entropyNormalised: normalisedEntropyScore(A, layout), meanDistance: meanDistanceScore(A, layout), duplicateToken: duplicateTokenScore(A, layout),
  };
  return { ...spec, sinkShare: spec.sink.share, sinkPosition: spec.sink.position };
}

/** The known answers; the definitions must give them exactly (up to rounding), and so must the fast pass. */
function assertScores(layer: AttentionProbabilities, layout: StackLayout, expected: { previousToken: number; firstToken: number; sinkPosition: number; sinkShare: number; entropy: number; entropyNormalised: number; meanDistance: number; duplicateToken: number }) {
  const spec = specScores(layer, layout, 0);
  const fast = layerHeadRoles(layer, layout);
  for (const name of Object.keys(expected) as (keyof typeof expected)[]) {
    assertNumbersClose([spec[name]], [expected[name]], `definition of ${name}`, 1e-7);
    assertNumbersClose([fast[name][0]], [expected[name]], `fast ${name}`, 1e-7);
  }
}

describe('analysis: head roles on hand-made heads', () => {
  it('a previous-token head', () => {
    const layer = layerFromRows([[[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]]);
    assertScores(layer, causal([7, 8, 7, 8]), {
      previousToken: 1, firstToken: 0.5, sinkPosition: 0, sinkShare: 0.5, entropy: 0, entropyNormalised: 0, meanDistance: 0.75, duplicateToken: 0,
    });
  });

  it('a uniform causal head: normalised entropy 1 on every row with a choice', () => {
    const layer = layerFromRows([[[1, 0, 0, 0], [1 / 2, 1 / 2, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0], [1 / 4, 1 / 4, 1 / 4, 1 / 4]]]);
    assertScores(layer, causal([7, 8, 7, 8]), {
      previousToken: (1 / 2 + 1 / 3 + 1 / 4) / 3, firstToken: 25 / 48, sinkPosition: 0, sinkShare: 25 / 48,
      entropy: Math.log(24) / 4, entropyNormalised: 1, meanDistance: 0.75, duplicateToken: (1 / 3 + 1 / 4) / 2,
    });
  });

  it('a bidirectional duplicate-token head: mass on every earlier copy, rows without one left out', () => {
    const layer = layerFromRows([[[1, 0, 0, 0], [0, 1, 0, 0], [0.8, 0, 0.2, 0], [0.3, 0, 0.5, 0.2]]]);
    const h2 = -(0.8 * Math.log(0.8) + 0.2 * Math.log(0.2));
    const h3 = -(0.3 * Math.log(0.3) + 0.5 * Math.log(0.5) + 0.2 * Math.log(0.2));
    assertScores(layer, bidirectional([5, 6, 5, 5]), {
      previousToken: 0.5 / 3, firstToken: 0.525, sinkPosition: 0, sinkShare: 0.525, entropy: (h2 + h3) / 4,
      entropyNormalised: (h2 + h3) / Math.log(4) / 4, meanDistance: 0.75, duplicateToken: 0.8,
    });
  });

  it('a cached generation step (one query at position 3) reads positions, not row numbers', () => {
    const layer = layerFromRows([[[0.1, 0.2, 0.3, 0.4]]]);
    const entropy = -[0.1, 0.2, 0.3, 0.4].reduce((h, p) => h + p * Math.log(p), 0);
    assertScores(layer, causal([1, 2, 3, 1]), {
      previousToken: 0.3, firstToken: 0.1, sinkPosition: 3, sinkShare: 0.4, entropy, entropyNormalised: entropy / Math.log(4), meanDistance: 1, duplicateToken: 0.1,
    });
  });

  it('cross-attention: position scores are NaN and say why; the others are defined', () => {
    const layer = layerFromRows([[[0.5, 0.5, 0], [0.2, 0.2, 0.6]]]);
    const entropy = [Math.log(2), -(0.4 * Math.log(0.2) + 0.6 * Math.log(0.6))];
    assertScores(layer, cross, {
      previousToken: NaN, firstToken: 0.35, sinkPosition: 0, sinkShare: 0.35, entropy: (entropy[0] + entropy[1]) / 2,
      entropyNormalised: (entropy[0] + entropy[1]) / 2 / Math.log(3), meanDistance: NaN, duplicateToken: NaN,
    });
    assert.deepStrictEqual(Object.keys(undefinedScores(cross, 2, 3)).sort(), ['duplicate_token', 'mean_distance', 'previous_token']);
  });

  it('one token: no previous token, nothing to normalise, no repeat', () => {
    const layer = layerFromRows([[[1]]]);
    assertScores(layer, causal([3]), {
      previousToken: NaN, firstToken: 1, sinkPosition: 0, sinkShare: 1, entropy: 0, entropyNormalised: NaN, meanDistance: 0, duplicateToken: NaN,
    });
    assert.deepStrictEqual(Object.keys(undefinedScores(causal([3]), 1, 1)).sort(), ['duplicate_token', 'entropy_normalised', 'previous_token']);
  });

  it('duplicate-token says why it is missing: no ids, or no repeat', () => {
    assert.match(undefinedScores(causal(), 3, 3).duplicate_token!, /not known/);
    assert.match(undefinedScores(causal([1, 2, 3]), 3, 3).duplicate_token!, /no token occurs twice/);
    assert.strictEqual(undefinedScores(causal([1, 2, 1]), 3, 3).duplicate_token, undefined);
    // A repeat among keys only (before the cached step's query) does not count.
    assert.match(undefinedScores(causal([1, 1, 2]), 1, 3).duplicate_token!, /no token occurs twice/);
  });

  it('rejects a layer whose data does not match its shape, and ids that do not match the keys', () => {
    assert.throws(() => layerHeadRoles({ numHeads: 1, queryLength: 2, keyLength: 2, probs: new Float32Array(3) }, causal()), /needs 4 values, got 3/);
    assert.throws(() => layerHeadRoles(layerFromRows([[[1, 0], [0.5, 0.5]]]), causal([1])), /1 token ids for 2 key positions/);
  });
});

const SHAPES: { name: string; shape: AttentionShape; layout: (ids: number[]) => StackLayout }[] = [
  { name: 'causal 37×37, 3 heads', shape: { heads: 3, queryLength: 37, keyLength: 37, causal: true }, layout: causal },
  { name: 'bidirectional 21×21, 2 heads', shape: { heads: 2, queryLength: 21, keyLength: 21, causal: false }, layout: bidirectional },
  { name: 'cached causal step 5×29, 2 heads', shape: { heads: 2, queryLength: 5, keyLength: 29, causal: true }, layout: causal },
  { name: 'cross 11×17, 3 heads', shape: { heads: 3, queryLength: 11, keyLength: 17, causal: false }, layout: () => cross },
  { name: 'cross 19×6, 1 head', shape: { heads: 1, queryLength: 19, keyLength: 6, causal: false }, layout: () => cross },
  { name: 'one token', shape: { heads: 2, queryLength: 1, keyLength: 1, causal: true }, layout: causal },
];

const FIELDS = ['previousToken', 'firstToken', 'sinkShare', 'entropy', 'entropyNormalised', 'meanDistance', 'duplicateToken'] as const;

describe('analysis: the fast per-layer pass equals the definitions', () => {
  for (const { name, shape, layout } of SHAPES) {
    for (const format of ['f32', 'f16'] as const) {
      it(`${name}, ${format}`, () => {
        for (const seed of [1, 2, 3]) {
          const uniform = seededUniform(seed * 77);
          // Few distinct ids, so that tokens repeat.
          const ids = Array.from({ length: shape.keyLength }, () => Math.floor(uniform() * 5));
          const layer = layerOf(shape, peakedAttention(shape, seed), format);
          const fast: LayerHeadRoles = layerHeadRoles(layer, layout(ids));
          for (let h = 0; h < shape.heads; h++) {
            const spec = specScores(layer, layout(ids), h);
            for (const field of FIELDS) assertNumbersClose([fast[field][h]], [spec[field]], `seed ${seed} head ${h} ${field}`);
            assert.strictEqual(fast.sinkPosition[h], spec.sinkPosition, `seed ${seed} head ${h} sink position`);
          }
        }
      });
    }
  }

  it('float16 scores stay within float16 rounding of the float32 ones', () => {
    const shape = { heads: 2, queryLength: 64, keyLength: 64, causal: true };
    const probs = peakedAttention(shape, 9);
    const ids = Array.from({ length: 64 }, (_, i) => i % 9);
    const f32 = layerHeadRoles(layerOf(shape, probs, 'f32'), causal(ids));
    const f16 = layerHeadRoles(layerOf(shape, probs, 'f16'), causal(ids));
    for (const field of FIELDS) assertNumbersClose(f16[field], f32[field], field, 1e-3, 2e-3);
  });
});
