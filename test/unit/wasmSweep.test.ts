/**
 * Every WebAssembly kernel against its JavaScript twin (the reference kernels) over size sweeps that
 * cross every tile, panel and block edge: the 4×8 register tile, 64-row × 16-panel gemm tasks,
 * 16-query attention tasks and 8-key panels, 8-row norm tasks, 16,384-element blocks, valueNorms' sgemm
 * per kv head. Four builds: relaxed-SIMD FMA and plain SIMD128, each on one thread and on several.
 */
import { WasmCpuBackend, defaultCpuThreads } from '../../src/engine/cpu/wasm/wasmBackend';
import { wasmFeatures } from '../../src/engine/cpu/wasm/kernelModule';
import { NamedBackend, attentionSweep, matmulSweep, valueNormSweep } from '../helpers/kernelSweep';
import { describeSweeps } from '../helpers/sweepSuites';

const MATMUL = matmulSweep({ exhaustive: 70, randomShapes: 14, randomMax: 1100, fixed: [13, 37, 29] });
const ATTENTION = attentionSweep(300, 8, 2048);
const ELEMENT_COUNTS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 16383, 16384, 16385, 32767, 49153];

describe('WebAssembly kernels against the JavaScript reference, at every size', function () {
  this.timeout(120000);
  const threads = Math.max(2, defaultCpuThreads());
  const builds = [
    { name: `FMA, ${threads} threads`, threads, fma: true },
    { name: 'FMA, 1 thread', threads: 1, fma: true },
    { name: `SIMD128, ${threads} threads`, threads, fma: false },
    { name: 'SIMD128, 1 thread', threads: 1, fma: false },
  ];
  const backends: NamedBackend[] = [];
  before(function () {
    if (!wasmFeatures().relaxedSimd) console.warn('  (this Node has no relaxed SIMD: the FMA builds run as SIMD128)');
    for (const b of builds) backends.push({ name: b.name, backend: new WasmCpuBackend({ threads: b.threads, fma: b.fma }) });
  });
  after(() => backends.forEach((b) => b.backend.dispose()));

  describeSweeps(backends, { matmul: MATMUL, attention: ATTENTION, valueNorms: valueNormSweep(70), elementCounts: ELEMENT_COUNTS }, 0);
});
