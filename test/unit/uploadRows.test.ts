/**
 * A large weight uploaded from disk a block of rows at a time (Backend.uploadRows) gives exactly the
 * products of the whole weight uploaded at once, on every backend that has it: blocks of 4 MB end
 * inside a panel of output columns and at odd row counts, for float32 and bfloat16 (an odd width: the
 * WebGPU blocks' 16-bit words), and a read that fails part way leaves nothing allocated.
 */
import * as assert from 'assert';
import type { Backend } from '../../src/engine/backend';
import type { HostTensor, RowSource } from '../../src/engine/tensor';
import { sliceRows } from '../../src/engine/tensor';
import { testBackends } from '../helpers/backends';

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

// float32 1,501 × 700 (4.2 MB): two blocks, the second a single row; bfloat16 3,003 × 701 (4.2 MB).
const CASES = [['float32, 1,501 × 700', 1501, 700, 'F32'], ['bfloat16, 3,003 × 701', 3003, 701, 'BF16']] as const;

describe('weights uploaded a block of rows at a time', () => {
  for (const { name, create } of testBackends()) {
    describe(name, () => {
      let backend: Backend;
      before(async function () {
        backend = await create();
        if (!backend.uploadRows) this.skip(); // the reference backend keeps host arrays: nothing to stream
      });
      after(() => backend?.dispose());

      for (const [label, rows, cols, dtype] of CASES) {
        it(`${label}: the same products as the whole weight`, async () => {
          const values = seeded(rows * cols, rows);
          const weight: HostTensor = dtype === 'F32' ? { dtype, shape: [rows, cols], data: values } : { dtype, shape: [rows, cols], data: bf16(values) };
          const reads: number[] = [];
          const whole = backend.upload(weight);
          const streamed = backend.uploadRows!(rowsOf(weight, reads));
          assert.ok(reads.length >= 2, `read in blocks (${reads.join(', ')} rows)`);
          assert.strictEqual(reads.reduce((a, b) => a + b, 0), rows);
          const x = backend.fromFloat32(seeded(5 * cols, 7), [5, cols]);
          const [a, b] = await backend.read([backend.linear(x, whole), backend.linear(x, streamed)]);
          assert.deepStrictEqual(b, a);
          backend.release([whole, streamed, x]);
        });
      }

      it('a read that fails part way leaves nothing on the backend', () => {
        const weight: HostTensor = { dtype: 'F32', shape: [1501, 700], data: seeded(1501 * 700, 3) };
        const before = backend.liveTensors();
        assert.throws(() => backend.uploadRows!(rowsOf(weight, [], 1200)), /the file changed/);
        assert.deepStrictEqual(backend.liveTensors(), before);
      });
    });
  }
});
