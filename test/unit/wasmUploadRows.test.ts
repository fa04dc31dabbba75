/**
 * A large weight uploaded from disk a block of rows at a time packs exactly as the whole weight does:
 * blocks of 4 MB end inside a panel of output columns, at odd row counts, for float32 and bfloat16,
 * and a read that fails part way leaves nothing allocated.
 */
import * as assert from 'assert';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';
import type { HostTensor, RowSource } from '../../src/engine/tensor';
import { sliceRows } from '../../src/engine/tensor';

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

function bf16(values: Float32Array): Uint16Array {
  return Uint16Array.from(new Uint32Array(values.buffer), (bits) => bits >>> 16);
}

function rowsOf(t: HostTensor, reads: number[], failAt?: number): RowSource {
  return {
    dtype: t.dtype, shape: [t.shape[0], t.shape[1]],
    read: (start, count) => {
      if (failAt !== undefined && start + count > failAt) throw new Error('the file changed');
      reads.push(count);
      return sliceRows(t, start, count);
    },
  };
}

describe('WebAssembly backend: weights uploaded a block of rows at a time', () => {
  // 1,501 rows × 700 float32 = 4.2 MB: two blocks of 4 MB, the second a single row.
  for (const [label, rows, dtype] of [['float32, 1,501 × 700', 1501, 'F32'], ['bfloat16, 3,003 × 700', 3003, 'BF16']] as const) {
    it(`${label}: the same products as the whole weight`, async () => {
      const cols = 700;
      const values = seeded(rows * cols, rows);
      const weight: HostTensor = dtype === 'F32' ? { dtype, shape: [rows, cols], data: values } : { dtype, shape: [rows, cols], data: bf16(values) };
      const backend = new WasmCpuBackend({ threads: 1 });
      try {
        const reads: number[] = [];
        const whole = backend.upload(weight);
        const streamed = backend.uploadRows(rowsOf(weight, reads));
        assert.ok(reads.length >= 2, `read in blocks (${reads.join(', ')} rows)`);
        assert.strictEqual(reads.reduce((a, b) => a + b, 0), rows);
        const x = backend.fromFloat32(seeded(5 * cols, 7), [5, cols]);
        const [a, b] = await backend.read([backend.linear(x, whole), backend.linear(x, streamed)]);
        assert.deepStrictEqual(b, a);
      } finally {
        backend.dispose();
      }
    });
  }

  it('a read that fails part way leaves nothing on the backend', () => {
    const rows = 1501, cols = 700;
    const weight: HostTensor = { dtype: 'F32', shape: [rows, cols], data: seeded(rows * cols, 3) };
    const backend = new WasmCpuBackend({ threads: 1 });
    try {
      assert.throws(() => backend.uploadRows(rowsOf(weight, [], 1200)), /the file changed/);
      assert.deepStrictEqual(backend.liveTensors(), { count: 0, bytes: 0 });
    } finally {
      backend.dispose();
    }
  });
});
