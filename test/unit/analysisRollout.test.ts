/** Rollout (closed forms, the fast product against the triple loop) and sinks (detection, hiding). */
import * as assert from 'assert';
import type { StackLayout } from '../../src/engine/analysis/probabilities';
import { Matrix, attentionRollout, crossMix, encoderDecoderRollout, multiply, residualMix } from '../../src/engine/analysis/rollout';
import { Float64Product } from '../../src/engine/cpu/wasm/float64Product';
import { detectSinks } from '../../src/engine/analysis/sinks';
import { layerHeadRoles } from '../../src/engine/analysis/headRoles';
import { seededUniform } from '../../src/engine/demo/demoWeights';
import { hideSinkRenormalised } from '../../src/view-model/weighting';
import { assertNumbersClose, layerFromRows, layerOf, naiveMix, naiveMultiply, naiveRollout, peakedAttention } from './analysisTestData';

const causal: StackLayout = { relation: 'self', causal: true };
const bidirectional: StackLayout = { relation: 'self', causal: false };

const uniformCausal3 = layerFromRows([[[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]]]);
/** Head 0 looks at the previous token (the first at itself), head 1 at itself. */
const previousAndSelf3 = layerFromRows([
  [[1, 0, 0], [1, 0, 0], [0, 1, 0]],
  [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
]);

/** Hand-made float32 layers hold 1/3 to 7 digits, hence the default tolerance. */
const assertMatrix = (actual: Matrix, expected: readonly (readonly number[])[], what: string, atol = 1e-7) => {
  assert.deepStrictEqual([actual.rows, actual.cols], [expected.length, expected[0].length], `${what}: shape`);
  assertNumbersClose(actual.data, expected.flat(), what, atol);
};

describe('analysis: attention rollout', () => {
  it('a layer mixes half attention (head mean) and half residual', () => {
    assertMatrix(residualMix(uniformCausal3, causal), [[1, 0, 0], [1 / 4, 3 / 4, 0], [1 / 6, 1 / 6, 2 / 3]], 'Â₁');
    assertMatrix(residualMix(previousAndSelf3, causal), [[1, 0, 0], [1 / 4, 3 / 4, 0], [0, 1 / 4, 3 / 4]], 'Â₂');
  });

  it('closed form on 3 tokens: R = Â₂·Â₁, R[i, j] = what token j gives position i', () => {
    const rollout = attentionRollout([residualMix(uniformCausal3, causal), residualMix(previousAndSelf3, causal)]);
    assertMatrix(rollout, [[1, 0, 0], [7 / 16, 9 / 16, 0], [3 / 16, 5 / 16, 1 / 2]], 'R');
  });

  it('the product (JavaScript and WebAssembly kernels) equals the textbook triple loop exactly, at every size and sparsity', () => {
    const wasm = Float64Product.create();
    assert.ok(wasm, 'this Node has WebAssembly SIMD');
    const uniform = seededUniform(5);
    const random = (rows: number, cols: number, keep: (i: number, j: number) => boolean) =>
      ({ rows, cols, data: Float64Array.from({ length: rows * cols }, (_, e) => (keep(Math.floor(e / cols), e % cols) ? uniform() : 0)) });
    const lower = (i: number, j: number) => j <= i;
    const sparse = () => uniform() < 0.3;
    for (const [m, k, n] of [[1, 1, 1], [3, 3, 3], [4, 4, 4], [5, 7, 9], [13, 6, 2], [17, 17, 17], [33, 31, 30], [64, 70, 66], [129, 129, 129]]) {
      for (const [name, keepA, keepB] of [['dense', () => true, () => true], ['lower', lower, lower], ['sparse', sparse, sparse], ['zero rows', (i: number) => i % 3 === 1, () => true]] as const) {
        const a = random(m, k, keepA), b = random(k, n, keepB);
        const expected = Array.from(naiveMultiply(a, b).data);
        for (const kernel of ['javascript', wasm] as const) {
          assert.deepStrictEqual(Array.from(multiply(a, b, kernel).data), expected, `${kernel === 'javascript' ? kernel : 'WebAssembly'}: ${name} [${m}, ${k}]·[${k}, ${n}]`);
        }
      }
    }
    assert.throws(() => multiply(random(2, 3, () => true), random(2, 3, () => true)), /cannot multiply/);
  });

  for (const format of ['f32', 'f16'] as const) {
    it(`random peaked layers (${format}): the rollout equals the naive chain and its rows sum to 1`, () => {
      for (const { causal: isCausal, size } of [{ causal: true, size: 23 }, { causal: false, size: 10 }]) {
        const shape = { heads: 3, queryLength: size, keyLength: size, causal: isCausal };
        const layers = [1, 2, 3, 4].map((seed) => layerOf(shape, peakedAttention(shape, seed), format));
        const expected = naiveRollout(layers.map((layer) => naiveMix(layer, true)));
        const rollout = attentionRollout(layers.map((layer) => residualMix(layer, isCausal ? causal : bidirectional)));
        assertNumbersClose(rollout.data, expected.data, `${isCausal ? 'causal' : 'bidirectional'} rollout`, 1e-12);
        for (let i = 0; i < size; i++) assertNumbersClose([rollout.data.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0)], [1], `row ${i} sum`, 1e-12);
      }
    });
  }

  it('encoder-decoder: closed form over two decoder layers; each row of decoder and cross together sums to 1', () => {
    const encoder = [residualMix(layerFromRows([[[0.5, 0.5], [0.5, 0.5]]]), bidirectional)];
    const decoder = [residualMix(layerFromRows([[[1, 0], [1, 0]]]), causal), residualMix(layerFromRows([[[1, 0], [0, 1]]]), causal)];
    const crossLayers = [crossMix(layerFromRows([[[1, 0], [0, 1]]])), crossMix(layerFromRows([[[0, 1], [0, 1]]]))];
    const rollout = encoderDecoderRollout(encoder, decoder, crossLayers);
    assertMatrix(rollout.encoder, [[3 / 4, 1 / 4], [1 / 4, 3 / 4]], 'encoder');
    // Layer 1: D = ½·Â, X = ½·C·R_enc; layer 2 (Â = I): D = ½·D, X = ½·X + ½·C₂·R_enc.
    assertMatrix(rollout.decoder, [[1 / 4, 0], [1 / 8, 1 / 8]], 'decoder');
    assertMatrix(rollout.cross, [[5 / 16, 7 / 16], [3 / 16, 9 / 16]], 'cross');
    assert.throws(() => encoderDecoderRollout(encoder, decoder, crossLayers.slice(1)), /2 decoder layers but 1 cross-attention/);
  });

  it('refuses what rollout cannot use: a cached step, a cross layout', () => {
    assert.throws(() => residualMix(layerFromRows([[[0.5, 0.5]]]), causal), /full self-attention run/);
    assert.throws(() => residualMix(uniformCausal3, { relation: 'cross', causal: false }), /full self-attention run/);
  });
});

describe('analysis: sinks', () => {
  it('a position is a sink when enough heads put more than ε of their mean mass on it', () => {
    // Mean mass per key [3 positions] of 2 layers × 2 heads.
    const shares = [[0.6, 0.1, 0.3], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5], [0.9, 0.05, 0.05]];
    const layers = [0, 1].map((l) => ({ numHeads: 2, keyLength: 3, keyShare: Float64Array.from([...shares[2 * l], ...shares[2 * l + 1]]) }));
    assert.deepStrictEqual(detectSinks(layers).map((s) => [s.position, s.headFraction]), [[0, 0.75], [2, 0.5]]);
    assertNumbersClose([detectSinks(layers)[0].meanShare], [(0.6 + 0.5 + 0.2 + 0.9) / 4], 'mean share');
    assert.deepStrictEqual(detectSinks(layers, { minHeadFraction: 0.6 }).map((s) => s.position), [0]);
    assert.deepStrictEqual(detectSinks(layers, { epsilon: 0.95 }), []);
    assert.deepStrictEqual(detectSinks([]), []);
  });

  it('finds a BOS sink from a layer where every row leans on position 0', () => {
    // Mean mass: head 0 [0.77, 0.17, 0.07], head 1 [0.33, 0.63, 0.03].
    const layer = layerFromRows([[[1, 0, 0], [0.7, 0.3, 0], [0.6, 0.2, 0.2]], [[1, 0, 0], [0, 1, 0], [0, 0.9, 0.1]]]);
    const sinks = detectSinks([layerHeadRoles(layer, causal)]);
    assert.deepStrictEqual(sinks.map((s) => [s.position, s.headFraction]), [[0, 1], [1, 0.5]]);
  });

  it('hiding sinks zeroes their columns and rescales each row to its former sum', () => {
    assertNumbersClose(hideSinkRenormalised(Float32Array.from([0.5, 0.3, 0.2]), 3, [0]), [0, 0.6, 0.4], 'one row', 1e-7);
    const matrix = Float32Array.from([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5, 0, 0, 0]);
    assertNumbersClose(hideSinkRenormalised(matrix, 3, [0]), [0, 0, 0, 0, 1, 0, 0, 0.375, 0.625, 0, 0, 0], 'rows: all on the sink → zeros; a zero row stays zero', 1e-7);
    assertNumbersClose(hideSinkRenormalised(Float32Array.from([0.1, 0.2, 0.3, 0.4]), 4, [0, 3]), [0, 0.4, 0.6, 0], 'two sinks', 1e-7);
    assert.deepStrictEqual(Array.from(matrix.subarray(0, 3)), [1, 0, 0], 'the input is not changed');
    assert.throws(() => hideSinkRenormalised(new Float32Array(5), 3, [0]), /not whole rows/);
  });
});
