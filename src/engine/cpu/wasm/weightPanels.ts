/**
 * How a linear weight [out, in] is laid out for the sgemm: panels of TILE_COLS output columns, each
 * [in][TILE_COLS], the last one zero padded. Elements are float32, or bfloat16 as a bfloat16 checkpoint
 * stores them (half the memory: the 'gemm_bf16' kernel widens them exactly as it loads them; float16
 * has no such exact widening and is stored as float32). Rows come one at a time, from a tensor in
 * memory or from disk a block at a time, so no copy of the whole weight is made on the way.
 */
import { BYTES_PER_ELEMENT, type HostTensor, ROW_BLOCK_BYTES, type RowSource, toFloat32 } from '../../tensor';
import { TILE_COLS } from './tile';

export type PanelElements = 'f32' | 'bf16';

/** How a weight stored as `dtype` is kept in panels. */
export function panelElements(dtype: HostTensor['dtype']): PanelElements {
  return dtype === 'BF16' ? 'bf16' : 'f32';
}

/** Row `n` of a 2-D tensor as its panels keep it: float32 (a view, or a widened copy of a float16 row), or bfloat16's bits. */
export function rowsOf(t: HostTensor): (n: number) => Float32Array | Uint16Array {
  const cols = t.shape[1];
  const rowOf = (n: number) => t.data.subarray(n * cols, (n + 1) * cols);
  if (t.dtype !== 'F16') return rowOf;
  return (n) => toFloat32({ dtype: t.dtype, shape: [cols], data: rowOf(n) });
}

/** Row `n` of a weight on disk, read with the block of rows after it when it is not the block at hand. */
export function blockedRows(weight: RowSource): (n: number) => Float32Array | Uint16Array {
  const [rows, width] = weight.shape;
  const blockRows = Math.max(1, Math.floor(ROW_BLOCK_BYTES / (width * BYTES_PER_ELEMENT[weight.dtype])));
  let block: { start: number; count: number; row: (n: number) => Float32Array | Uint16Array } | undefined;
  return (n) => {
    if (!block || n < block.start || n >= block.start + block.count) {
      const count = Math.min(blockRows, rows - n);
      block = { start: n, count, row: rowsOf(weight.read(n, count)) };
    }
    return block.row(n - block.start);
  };
}

/** Index of element (n, k) of an [outDim, inDim] weight in its panels. */
export function panelIndex(n: number, k: number, inDim: number): number {
  return Math.floor(n / TILE_COLS) * inDim * TILE_COLS + k * TILE_COLS + (n % TILE_COLS);
}

/** Writes rows 0 … outDim − 1 (from `row`) into `into` (float32 values, or bfloat16 bits) from index `base`. */
export function packPanels(into: Float32Array | Uint16Array, base: number, row: (n: number) => ArrayLike<number>, outDim: number, inDim: number): void {
  const panels = Math.ceil(outDim / TILE_COLS);
  for (let p = 0; p < panels; p++) {
    for (let c = 0; c < TILE_COLS; c++) {
      const n = p * TILE_COLS + c;
      const dst = base + p * inDim * TILE_COLS + c;
      if (n >= outDim) {
        for (let k = 0; k < inDim; k++) into[dst + k * TILE_COLS] = 0;
        continue;
      }
      const values = row(n);
      for (let k = 0; k < inDim; k++) into[dst + k * TILE_COLS] = values[k];
    }
  }
}

const widened = new Float32Array(1);
const widenedBits = new Uint32Array(widened.buffer);

/** The float32 a bfloat16 bit pattern stands for (exact). */
export function fromBfloat16(bits: number): number {
  widenedBits[0] = bits << 16;
  return widened[0];
}
