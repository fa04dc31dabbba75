/**
 * The kernel sweep's suites, the same for every fast backend: linear, attention and valueNorms at every
 * size of the sweep, the row ops, and float16 reads — each compared with the reference kernels.
 */
import * as assert from 'assert';
import * as reference from '../../src/engine/cpu/reference';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import {
  attentionName, checkAttention, checkMatmul, checkValueNorms, matmulName, rowOpCases, seeded, uniform, valueNormName,
  type AttentionCase, type MatmulShape, type NamedBackend, type ValueNormCase,
} from './kernelSweep';
import { assertTwins } from './webgpuTwins';

export interface SweepSizes {
  readonly matmul: readonly MatmulShape[];
  readonly attention: readonly AttentionCase[];
  readonly valueNorms: readonly ValueNormCase[];
  readonly elementCounts: readonly number[];
}

/**
 * Registers the suites over `backends` (filled by the caller's `before` hook). float16 reads must round
 * as the reference does within `float16Ulps` (0: bit for bit).
 */
export function describeSweeps(backends: readonly NamedBackend[], sizes: SweepSizes, float16Ulps: number): void {
  describe(`linear: ${sizes.matmul.length} shapes (each axis 1…70, random up to 1,100)`, () => {
    sizes.matmul.forEach((shape, n) => {
      it(matmulName(shape), () => checkMatmul(backends, shape, n));
    });
  });

  describe(`attention: ${sizes.attention.length} cases (every T 1…300, sampled up to 2,048; head sizes 8…128; GQA 1…8; sliding windows 1, 8, 13, wider than T; soft-cap)`, () => {
    sizes.attention.forEach((c, n) => {
      it(attentionName(c), () => checkAttention(backends, c, n + 1));
    });
  });

  describe(`valueNorms: ${sizes.valueNorms.length} cases (every key count 1…70; head sizes 8…128; GQA 1…8; 16-bit projections)`, () => {
    sizes.valueNorms.forEach((c, n) => {
      it(valueNormName(c), () => checkValueNorms(backends, c, n + 1));
    });
  });

  describe('norms, elementwise, split/RoPE, concatenation, gather', () => {
    const cpu = new ReferenceBackend();
    for (const c of rowOpCases(70, sizes.elementCounts)) {
      it(c.name, async () => {
        for (const { name, backend } of backends) await assertTwins(`${name}: ${c.name}`, cpu, backend, c.build, c.tolerance);
      });
    }
    const rounding = float16Ulps === 0 ? 'round exactly as the reference' : `within ${float16Ulps} ulp of the reference's rounding`;
    it(`float16 reads of ${sizes.elementCounts.length} sizes ${rounding}`, async () => {
      for (const count of sizes.elementCounts) {
        const values = uniform(count, seeded(count)).map(Math.abs);
        const expected = reference.toFloat16Bits(values);
        for (const { name, backend } of backends) {
          const t = backend.fromFloat32(values, [count]);
          const bits = await backend.readHalf!(t);
          backend.release([t]);
          const worst = bits.reduce((m, b, i) => Math.max(m, Math.abs(b - expected[i])), 0);
          assert.ok(bits.length === count && worst <= float16Ulps, `${name}: ${count} values: float16 bits differ by up to ${worst}`);
        }
      }
    });
  });
}
