/**
 * Every WGSL kernel against its JavaScript twin (the reference kernels) over size sweeps that cross
 * every tile and workgroup edge: matmul's 64×64 tiles (16 rows at most 32 rows), 16-value k steps
 * and vec4 loads (k a multiple of 4 or not); attention's 4-query workgroups, 64-key passes and head
 * capacities of 64/128/256; norms' 128-thread rows. The same sweep as the WebAssembly kernels',
 * smaller where a software adapter (lavapipe in CI) would take minutes.
 */
import { webgpuOrSkip } from '../helpers/backends';
import { NamedBackend, attentionSweep, matmulSweep, valueNormSweep } from '../helpers/kernelSweep';
import { describeSweeps } from '../helpers/sweepSuites';

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

  describeSweeps(backends, { matmul: MATMUL, attention: ATTENTION, valueNorms: valueNormSweep(70), elementCounts: ELEMENT_COUNTS }, 1);
});
