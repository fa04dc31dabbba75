/**
 * Every WGSL kernel against its JavaScript twin (the reference kernels) over size sweeps that cross
 * every tile and workgroup edge: matmul's 64×64 tiles (16 rows at most 32 rows), 16-value k steps
 * and vec4 loads (k a multiple of 4 or not); attention's 4-query workgroups, 64-key passes and head
 * capacities of 64/128/256; norms' 128-thread rows. The same sweep as the WebAssembly kernels',
 * smaller where a software adapter (lavapipe in CI) would take minutes.
 */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import * as reference from '../../src/engine/cpu/reference';
import type { WebGpuBackend } from '../../src/engine/webgpu/webgpuBackend';
import { webgpuOrSkip } from '../helpers/backends';
import {
  NamedBackend, attentionName, attentionSweep, checkAttention, checkMatmul, matmulName, matmulSweep, rowOpCases, seeded, uniform,
} from '../helpers/kernelSweep';
import { assertTwins } from '../helpers/webgpuTwins';

const MATMUL = matmulSweep({ exhaustive: 70, randomShapes: 6, randomMax: 1100, fixed: [37, 20, 67] });
const ATTENTION = attentionSweep(300, 3, 2048);
const ELEMENT_COUNTS = [1, 3, 4, 5, 255, 256, 257, 16385, 65537];

describe('WebGPU kernels against the JavaScript reference, at every size', function () {
  this.timeout(300000);
  const backends: NamedBackend[] = [];
  before(async function () {
    backends.push({ name: 'webgpu', backend: await webgpuOrSkip(this) });
  });
  after(() => backends.forEach((b) => b.backend.dispose()));

  describe(`linear: ${MATMUL.length} shapes (each axis 1…70, random up to 1,100)`, () => {
    MATMUL.forEach((shape, n) => {
      it(matmulName(shape), () => checkMatmul(backends, shape, n));
    });
  });

  describe(`attention: ${ATTENTION.length} cases (every T 1…300, sampled up to 2,048; head sizes 8…128; GQA 1…8; sliding windows 1, 8, 13, wider than T; soft-cap)`, () => {
    ATTENTION.forEach((c, n) => {
      it(attentionName(c), () => checkAttention(backends, c, n + 1));
    });
  });

  describe('norms, elementwise, split/RoPE, concatenation, gather', () => {
    const cpu = new ReferenceBackend();
    for (const c of rowOpCases(70, ELEMENT_COUNTS)) {
      it(c.name, () => assertTwins(`webgpu: ${c.name}`, cpu, backends[0].backend, c.build, c.tolerance));
    }
    it(`float16 reads of ${ELEMENT_COUNTS.length} sizes within one ulp of the reference's rounding`, async () => {
      const gpu = backends[0].backend as WebGpuBackend;
      for (const count of ELEMENT_COUNTS) {
        const values = uniform(count, seeded(count)).map(Math.abs);
        const t = gpu.fromFloat32(values, [count]);
        const bits = await gpu.readHalf(t);
        gpu.release([t]);
        const expected = reference.toFloat16Bits(values);
        const worst = bits.reduce((m, b, i) => Math.max(m, Math.abs(b - expected[i])), 0);
        assert.ok(bits.length === count && worst <= 1, `${count} values: float16 bits differ by up to ${worst}`);
      }
    });
  });
});
