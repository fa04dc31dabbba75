/**
 * How a linear weight [out, in] is laid out for the sgemm: panels of TILE_COLS output columns, each
 * [in][TILE_COLS], the last one zero padded. Rows come one at a time, from a tensor in memory or from
 * disk a block at a time, widened from 16 bits as they are packed (no float32 copy of the whole).
 */
import { BYTES_PER_ELEMENT, type HostTensor, ROW_BLOCK_BYTES, type RowSource, toFloat32 } from '../../tensor';
import { TILE_COLS } from './tile';

/** Row `n` of a 2-D tensor as float32 (a view for F32, a widened copy for F16/BF16). */
export function rowsOf(t: HostTensor): (n: number) => Float32Array {
  const cols = t.shape[1];
  const rowOf = (n: number) => t.data.subarray(n * cols, (n + 1) * cols);
  if (t.dtype === 'F32') return rowOf as (n: number) => Float32Array;
  return (n) => toFloat32({ dtype: t.dtype, shape: [cols], data: rowOf(n) });
}

/** Row `n` of a weight on disk, read with the block of rows after it when it is not the block at hand. */
export function blockedRows(weight: RowSource): (n: number) => Float32Array {
  const [rows, width] = weight.shape;
  const blockRows = Math.max(1, Math.floor(ROW_BLOCK_BYTES / (width * BYTES_PER_ELEMENT[weight.dtype])));
  let block: { start: number; count: number; row: (n: number) => Float32Array } | undefined;
  return (n) => {
    if (!block || n < block.start || n >= block.start + block.count) {
      const count = Math.min(blockRows, rows - n);
      block = { start: n, count, row: rowsOf(weight.read(n, count)) };
    }
    return block.row(n - block.start);
  };
}

/** Writes rows 0 … outDim − 1 (from `row`) into `f32` at `base` in the panel layout. */
export function packPanels(f32: Float32Array, base: number, row: (n: number) => Float32Array, outDim: number, inDim: number): void {
  const panels = Math.ceil(outDim / TILE_COLS);
  for (let p = 0; p < panels; p++) {
    for (let c = 0; c < TILE_COLS; c++) {
      const n = p * TILE_COLS + c;
      const dst = base + p * inDim * TILE_COLS + c;
      if (n >= outDim) {
        for (let k = 0; k < inDim; k++) f32[dst + k * TILE_COLS] = 0;
        continue;
      }
      const values = row(n);
      for (let k = 0; k < inDim; k++) f32[dst + k * TILE_COLS] = values[k];
    }
  }
}
