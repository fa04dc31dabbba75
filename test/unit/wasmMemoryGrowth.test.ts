/**
 * Ops whose outputs make the kernels' shared memory grow. Growing a shared WebAssembly memory leaves
 * typed-array views taken before it at the old length, and writes past that length vanish silently:
 * `split` once wrote q, k and v through such a view, so at some input lengths (the ones where the
 * memory grew inside it) whole rows of keys stayed zero and attention came out uniform. Each op here
 * runs on a fresh backend whose memory is filled up to a chosen headroom just before the op.
 */
import type { Backend, DeviceTensor } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';
import { seeded, uniform } from '../helpers/kernelSweep';
import { Build, assertTwins } from '../helpers/webgpuTwins';

const ROWS = 96;
const WIDTH = 48;
/** Block bookkeeping of the heap: 64-byte alignment plus 64 bytes of read slack per block. */
const BLOCK_OVERHEAD = 64;

/** Allocates a filler block so that only about `headroom` bytes are left before the memory grows. */
function fillTo(backend: Backend, headroom: number): void {
  if (!(backend instanceof WasmCpuBackend)) return;
  const block = Math.floor((backend.headroomBytes - headroom) / 64) * 64;
  if (block > 2 * BLOCK_OVERHEAD) backend.fromFloat32(new Float32Array((block - BLOCK_OVERHEAD) / 4), [(block - BLOCK_OVERHEAD) / 4]);
}

const x = uniform(ROWS * WIDTH, seeded(1), 2);
const y = uniform(ROWS * WIDTH, seeded(2), 2);
const w = uniform(WIDTH * WIDTH, seeded(3));
const vector = uniform(WIDTH, seeded(4));
const invFreq = Float32Array.from({ length: 4 }, (_, i) => 10000 ** (-i / 4));

type Op = (b: Backend, input: DeviceTensor, other: DeviceTensor) => DeviceTensor | DeviceTensor[];
const OPS: Record<string, Op> = {
  'linear': (b, a) => b.linear(a, b.upload({ dtype: 'F32', shape: [WIDTH, WIDTH], data: w })),
  'add': (b, a, c) => b.add(a, c),
  'scale': (b, a) => b.scale(a, 0.5),
  'softCap': (b, a) => b.softCap(a, 3),
  'gated': (b, a, c) => b.gated(a, c, 'silu'),
  'layerNorm': (b, a) => b.layerNorm(a, b.upload({ dtype: 'F32', shape: [WIDTH], data: vector }), b.upload({ dtype: 'F32', shape: [WIDTH], data: vector }), 1e-5),
  'rmsNorm': (b, a) => b.rmsNorm(a, b.upload({ dtype: 'F32', shape: [WIDTH], data: vector }), 1e-6),
  'gather': (b) => b.gather(b.upload({ dtype: 'F32', shape: [ROWS, WIDTH], data: x }), Int32Array.from({ length: 2 * ROWS }, (_, i) => (i * 7) % ROWS)),
  'concatRows': (b, a, c) => b.concatRows(a, c),
  'split with RoPE': (b, a) => b.split(a, [{ width: 16, rope: true }, { width: 16, rope: true }, { width: 16 }], { invFreq, headDim: 8, rotaryDims: 8, positionOffset: 0 }),
  'attention': (b, a, c) => {
    const [q, k, v] = b.split(a, [{ width: 16 }, { width: 16 }, { width: 16 }]);
    const result = b.attention(q, k, b.add(v, b.split(c, [{ width: 16 }, { width: 32 }])[0]), {
      numHeads: 2, numKvHeads: 2, headDim: 8, scale: 3, causal: true, keepScores: true,
    });
    return [result.probs, result.scores!, result.context];
  },
};

describe('WebAssembly backend: ops whose outputs make the memory grow', function () {
  const cpu = new ReferenceBackend();
  // 0: the op's first allocation grows the memory; the others: a later allocation inside the op does.
  for (const headroom of [0, 4096, ROWS * WIDTH * 4 + 1024, 3 * ROWS * WIDTH * 4]) {
    for (const [name, op] of Object.entries(OPS)) {
      it(`${name}, with ${headroom} bytes left before the memory grows`, async () => {
        const backend = new WasmCpuBackend({ threads: 2 });
        try {
          const build: Build = (b) => {
            const a = b.fromFloat32(x, [ROWS, WIDTH]);
            const c = b.fromFloat32(y, [ROWS, WIDTH]);
            fillTo(b, headroom);
            return op(b, a, c);
          };
          await assertTwins(name, cpu, backend, build, { atol: 2e-5, rtol: 2e-5 });
        } finally {
          backend.dispose();
        }
      });
    }
  }
});
