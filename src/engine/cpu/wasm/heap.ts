/**
 * The kernels' memory: one shared WebAssembly memory that every pool thread imports, carved into
 * tensors by a first-fit free list with coalescing. Blocks are 64-byte aligned and keep 64 spare
 * bytes at the end, because the kernels may read (never write) up to 16 floats past a row's end.
 * WebAssembly memory only grows, so the high-water mark is the memory's size, reported as `peakBytes`.
 */
import { MAX_PAGES, PAGE_BYTES } from './kernelModule';
import { WasmMemory, wasmApi } from './wasmApi';

const ALIGN = 64;
const SLACK = 64;
/** Address 0 stays unused so that 0 can mean "no tensor" in kernel arguments. */
const FIRST = ALIGN;

interface Block {
  offset: number;
  size: number;
}

export class Heap {
  readonly memory: WasmMemory;
  private readonly free: Block[] = [];
  private readonly sizes = new Map<number, number>();
  private top = FIRST;
  private floats: Float32Array;
  /** Bytes in blocks handed out and not yet released. */
  private usedBytes = 0;

  constructor() {
    this.memory = new wasmApi!.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.floats = new Float32Array(this.memory.buffer);
  }

  /**
   * A view of the whole memory (renewed after growth). Take it after the last `alloc` it must reach:
   * growing a shared memory leaves older views at the old length, and a typed array silently drops
   * writes past its end (the cause of uniform attention rows at some lengths, fixed in `split`).
   */
  get f32(): Float32Array {
    if (this.floats.buffer.byteLength !== this.memory.buffer.byteLength) this.floats = new Float32Array(this.memory.buffer);
    return this.floats;
  }

  get u16(): Uint16Array {
    return new Uint16Array(this.memory.buffer);
  }

  /** Blocks handed out and not yet released, and their bytes. */
  get inUse(): { count: number; bytes: number } {
    return { count: this.sizes.size, bytes: this.usedBytes };
  }

  get peakBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes a new block at the top can take before the memory must grow (free blocks below not counted). */
  get headroomBytes(): number {
    return this.memory.buffer.byteLength - this.top;
  }

  /** Byte offset of a new block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    const size = Math.ceil((bytes + SLACK) / ALIGN) * ALIGN;
    const index = this.free.findIndex((b) => b.size >= size);
    let offset: number;
    if (index >= 0) {
      const block = this.free[index];
      offset = block.offset;
      if (block.size === size) this.free.splice(index, 1);
      else Object.assign(block, { offset: block.offset + size, size: block.size - size });
    } else {
      offset = this.top;
      this.ensure(offset + size);
      this.top = offset + size;
    }
    this.sizes.set(offset, size);
    this.usedBytes += size;
    return offset;
  }

  release(offset: number): void {
    const size = this.sizes.get(offset);
    if (size === undefined) return;
    this.sizes.delete(offset);
    this.usedBytes -= size;
    let index = this.free.findIndex((b) => b.offset > offset);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { offset, size });
    // Merge with the following, then the preceding block; a block that reaches the top lowers it.
    const next = this.free[index + 1];
    if (next && offset + size === next.offset) {
      this.free[index].size += next.size;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous && previous.offset + previous.size === offset) {
      previous.size += this.free[index].size;
      this.free.splice(index, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last && last.offset + last.size === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE_BYTES);
    if (have / PAGE_BYTES + pages > MAX_PAGES) {
      throw new Error(`the CPU kernels' memory would exceed ${MAX_PAGES * PAGE_BYTES / 2 ** 30} GiB (the WebAssembly limit); use fewer tokens`);
    }
    // Grow by at least an eighth so that a run that creeps up does not grow page by page.
    this.memory.grow(Math.min(MAX_PAGES - have / PAGE_BYTES, Math.max(pages, Math.ceil(have / PAGE_BYTES / 8))));
  }
}
