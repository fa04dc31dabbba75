/** Host-side tensors: what the loader reads and what the backends upload. Row-major, no strides. */
import { float16Table } from '../protocol/float16';

export type StorageDType = 'F32' | 'F16' | 'BF16';

export interface HostTensor {
  readonly dtype: StorageDType;
  readonly shape: readonly number[];
  /** F32: Float32Array; F16 and BF16: the raw 16-bit patterns, converted by whoever computes. */
  readonly data: Float32Array | Uint16Array;
}

export const BYTES_PER_ELEMENT: Record<StorageDType, number> = { F32: 4, F16: 2, BF16: 2 };

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function toFloat32(t: HostTensor): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  const src = t.data as Uint16Array;
  const out = new Float32Array(src.length);
  if (t.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  } else {
    const table = float16Table();
    for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  }
  return out;
}

export function f32Tensor(shape: readonly number[], data?: Float32Array): HostTensor {
  return { dtype: 'F32', shape, data: data ?? new Float32Array(numel(shape)) };
}


function allocLike(dtype: StorageDType, length: number): Float32Array | Uint16Array {
  return dtype === 'F32' ? new Float32Array(length) : new Uint16Array(length);
}

/**
 * Stacks 2-D (or 1-D) tensors along the first dimension, keeping their storage dtype; tensors stored in
 * different dtypes (q in F16, k in BF16: an odd exporter) are stacked as float32.
 */
export function concatRows(tensors: readonly HostTensor[]): HostTensor {
  if (tensors.some((t) => t.dtype !== tensors[0].dtype)) return concatRows(tensors.map((t) => f32Tensor(t.shape, toFloat32(t))));
  const dtype = tensors[0].dtype;
  const rest = tensors[0].shape.slice(1);
  const rows = tensors.reduce((n, t) => n + t.shape[0], 0);
  const data = allocLike(dtype, tensors.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of tensors) {
    data.set(t.data as never, offset);
    offset += t.data.length;
  }
  return { dtype, shape: [rows, ...rest], data };
}

/** [r, c] → [c, r], keeping the storage dtype (GPT-2's Conv1D weights become nn.Linear layout). */
export function transpose2d(t: HostTensor): HostTensor {
  const [rows, cols] = t.shape;
  const out = allocLike(t.dtype, t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return { dtype: t.dtype, shape: [cols, rows], data: out };
}

/** Rows [start, start + count) of a tensor (elements of a 1-D one), keeping the storage dtype. */
export function sliceRows(t: HostTensor, start: number, count: number): HostTensor {
  const rest = t.shape.slice(1);
  const width = numel(rest);
  return { dtype: t.dtype, shape: [count, ...rest], data: t.data.slice(start * width, (start + count) * width) };
}

/** A float32 copy of the tensor plus a constant (Gemma's RMSNorm weights store w for a scale of 1 + w). */
export function plusConstant(t: HostTensor, constant: number): HostTensor {
  return f32Tensor(t.shape, toFloat32(t).map((x) => x + constant));
}

/** Bytes of a weight a backend reads from disk at a time through a RowSource. */
export const ROW_BLOCK_BYTES = 4 << 20;

/** A 2-D weight [rows, cols] read from disk in blocks of rows, each as stored (F32, F16 or BF16). */
export interface RowSource {
  readonly dtype: StorageDType;
  readonly shape: readonly [number, number];
  /** Rows [start, start + count) as a [count, cols] tensor. */
  read(start: number, count: number): HostTensor;
}

/**
 * A weight that is read (and converted) only when a backend uploads it, and read again for another
 * backend: a model keeps these, not host copies, so its weights are held once, on the device. Its
 * shape was checked against the file's header when it was made, so a mismatch is still found at load.
 */
export class LazyTensor {
  /**
   * `rows`: where the weight can also be read a block of rows at a time, as stored (a plain tensor of
   * the file, not a converted one): a backend that packs rows as it goes then never holds it whole.
   */
  constructor(readonly read: () => HostTensor, readonly rows?: RowSource) {}

  /** The same weight, converted on the host (transposed, sliced, shifted) each time it is read. */
  map(convert: (t: HostTensor) => HostTensor): LazyTensor {
    return new LazyTensor(() => convert(this.read()));
  }

  /** Several weights read together and made into one (q, k and v stacked into one projection). */
  static join(parts: readonly LazyTensor[], combine: (tensors: HostTensor[]) => HostTensor): LazyTensor {
    return new LazyTensor(() => combine(parts.map((p) => p.read())));
  }
}
