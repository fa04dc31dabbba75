/// <reference types="@webgpu/types" />
/**
 * Reuses storage buffers across layers and runs. Sizes are rounded up to a size class (four steps
 * per power of two, at least 256 bytes) so a freed buffer fits the next request of about the same
 * size; every pooled buffer has the same usage. The pool keeps at most `maxPooledBytes` idle.
 */
import { Usage } from './gpuDevice';

const TENSOR_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private idleBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
    private readonly maxPooledBytes = 1 << 30,
  ) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = Math.min(sizeClass(bytes), Math.max(this.maxBufferSize - (this.maxBufferSize % 256), bytes));
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.idleBytes -= size;
      reused.label = label;
      return reused;
    }
    return this.device.createBuffer({ label, size, usage: TENSOR_USAGE });
  }

  /** Only call once no queued or unsubmitted work refers to the buffer. */
  release(buffer: GPUBuffer): void {
    if (this.idleBytes + buffer.size > this.maxPooledBytes) {
      buffer.destroy();
      return;
    }
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.idleBytes += buffer.size;
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.idleBytes = 0;
  }
}
