/// <reference types="@webgpu/types" />
/**
 * Tensors on the GPU. A tensor is a 2-D window onto a reference-counted buffer: usually the whole
 * buffer (dense), but `split` hands out views (a column range of the fused q|k|v projection) so no
 * copy is made for parts that need no RoPE. 16-bit weights keep their 16-bit storage (two values per
 * u32 word) and are unpacked by the kernels that read weights.
 */
import type { DeviceTensor } from '../backend';
import { numel } from '../tensor';

export type GpuDType = 'f32' | 'f16' | 'bf16';

export const BYTES: Record<GpuDType, number> = { f32: 4, f16: 2, bf16: 2 };

/** A buffer shared by a tensor and its views; it goes back to the pool when the last one is released. */
export class Storage {
  private refs = 1;

  constructor(
    readonly buffer: GPUBuffer,
    private readonly onFree: (storage: Storage) => void,
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.onFree(this);
  }
}

export class GpuTensor implements DeviceTensor {
  private released = false;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: GpuDType,
    readonly storage: Storage,
    /** First element, in elements of `dtype`. */
    readonly offset = 0,
    /** Elements between the starts of consecutive rows. */
    readonly rowStride = shape[shape.length - 1],
  ) {}

  get isReleased(): boolean {
    return this.released;
  }

  get rows(): number {
    return numel(this.shape) / this.cols;
  }

  get cols(): number {
    return this.shape[this.shape.length - 1];
  }

  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }

  /** Row-major with no gaps and starting at element 0: what every kernel's plain binding expects. */
  get dense(): boolean {
    return this.offset === 0 && this.contiguous;
  }

  /** Rows follow each other without gaps (a view may still start at an offset). */
  get contiguous(): boolean {
    return this.rowStride === this.cols || this.rows === 1;
  }

  get byteLength(): number {
    return numel(this.shape) * BYTES[this.dtype];
  }

  /** A view of `width` columns starting at column `start`, sharing this tensor's storage. */
  columns(start: number, width: number): GpuTensor {
    return this.view([this.rows, width], this.offset + start, this.rowStride);
  }

  /** Another window onto this tensor's storage; it keeps the storage alive until it is released. */
  view(shape: readonly number[], offset: number, rowStride: number): GpuTensor {
    this.storage.retain();
    return new GpuTensor(shape, this.dtype, this.storage, offset, rowStride);
  }

  /** Releases this handle once; releasing twice is a no-op so models need not track it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.storage.release();
  }
}
