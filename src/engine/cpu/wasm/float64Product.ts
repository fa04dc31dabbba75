/**
 * A float64 matrix product with WebAssembly SIMD, for attention rollout: two float64 lanes, 4 rows × 4
 * columns of the output in eight vector accumulators. Each lane multiplies and adds as scalar float64
 * does (no fused multiply-add) and sums its k terms in ascending order from the same first to the
 * same last, so the result is bit for bit that of its JavaScript twin (analysis/rollout.ts), in about
 * half the time. One thread, in a memory of its own that keeps the operands between products.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType, encodeModule } from './encoding';
import { MAX_PAGES, PAGE_BYTES, wasmFeatures } from './kernelModule';
import { f64, f64x2, forLoop, i32, local, seq, v128 } from './ops';
import { WasmInstance, WasmMemory, WasmModule, wasmApi } from './wasmApi';

const I = ValType.I32;
const V = ValType.V128;

/**
 * product(a, b, c, rowEnds, colStarts, rows, inner, cols): c = a · b, row-major float64, a [rows, inner],
 * b [inner, cols], rows and cols multiples of 4. Byte addresses; rowEnds[i / 4] (i32) is one past the
 * last k that rows i … i + 3 need, colStarts[j / 4] the first k that columns j … j + 3 need.
 */
function productFunction(): ModuleFunction {
  const fn = new FunctionBuilder('product', [I, I, I, I, I, I, I, I]);
  const [a, b, c, rowEnds, colStarts, rows, inner, cols] = fn.params.map((_, i) => i);
  const [i, j, k, kEnd, rowBytes, colBytes, pb, pc] = Array.from({ length: 8 }, () => fn.local(I));
  const pa = Array.from({ length: 4 }, () => fn.local(I));
  const acc = Array.from({ length: 8 }, () => fn.local(V));
  const [x, y0, y1] = [fn.local(V), fn.local(V), fn.local(V)];
  const get = local.get;
  const add = (p: number, bytes: Code) => local.set(p, i32.add(get(p), bytes));
  const body = seq(
    local.set(rowBytes, i32.shl(get(inner), i32.const(3))),
    local.set(colBytes, i32.shl(get(cols), i32.const(3))),
    forLoop(i, i32.const(0), get(rows), 4,
      // i / 4 entries of 4 bytes: byte offset i.
      local.set(kEnd, i32.load(i32.add(get(rowEnds), get(i)))),
      forLoop(j, i32.const(0), get(cols), 4,
        ...acc.map((v) => local.set(v, f64x2.splat(f64.const(0)))),
        local.set(k, i32.load(i32.add(get(colStarts), get(j)))),
        local.set(pa[0], i32.add(i32.add(get(a), i32.mul(get(i), get(rowBytes))), i32.shl(get(k), i32.const(3)))),
        ...[1, 2, 3].map((r) => local.set(pa[r], i32.add(get(pa[r - 1]), get(rowBytes)))),
        local.set(pb, i32.add(i32.add(get(b), i32.mul(get(k), get(colBytes))), i32.shl(get(j), i32.const(3)))),
        forLoop(k, get(k), get(kEnd), 1,
          local.set(y0, v128.load(get(pb))),
          local.set(y1, v128.load(get(pb), 16)),
          ...pa.map((p, r) => seq(
            local.set(x, f64x2.splat(f64.load(get(p)))),
            local.set(acc[2 * r], f64x2.add(get(acc[2 * r]), f64x2.mul(get(x), get(y0)))),
            local.set(acc[2 * r + 1], f64x2.add(get(acc[2 * r + 1]), f64x2.mul(get(x), get(y1)))),
            add(p, i32.const(8)))),
          add(pb, get(colBytes))),
        local.set(pc, i32.add(get(c), i32.shl(i32.add(i32.mul(get(i), get(cols)), get(j)), i32.const(3)))),
        ...[0, 1, 2, 3].map((r) => seq(
          v128.store(get(pc), get(acc[2 * r])),
          v128.store(get(pc), get(acc[2 * r + 1]), 16),
          add(pc, get(colBytes))))),
    ),
  );
  return { builder: fn, body };
}

/** Operands laid out in the module's memory: where each starts, in bytes. */
interface Layout {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly rowEnds: number;
  readonly colStarts: number;
  readonly end: number;
}

let compiled: WasmModule | undefined;

/** A product and its memory: use one for a chain of products, and let it go (the memory goes with it). */
export class Float64Product {
  private readonly memory: WasmMemory;
  private readonly instance: WasmInstance;

  private constructor() {
    compiled ??= new wasmApi!.Module(encodeModule([productFunction()], MAX_PAGES));
    this.memory = new wasmApi!.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    this.instance = new wasmApi!.Instance(compiled, { env: { memory: this.memory } });
  }

  /** A product, or undefined where this JavaScript engine has no WebAssembly SIMD. */
  static create(): Float64Product | undefined {
    return wasmApi && wasmFeatures().simd ? new Float64Product() : undefined;
  }

  /**
   * a [rows, inner] · b [inner, cols] → [rows, cols], rows and cols multiples of 4 (zero padded), with
   * the k range each 4-row and 4-column block needs.
   */
  multiply(a: Float64Array, b: Float64Array, shape: { rows: number; inner: number; cols: number }, rowEnds: Int32Array, colStarts: Int32Array): Float64Array {
    const { rows, inner, cols } = shape;
    const at = this.layout(rows, inner, cols);
    const memory = this.memory.buffer;
    new Float64Array(memory, at.a, rows * inner).set(a);
    new Float64Array(memory, at.b, inner * cols).set(b);
    new Int32Array(memory, at.rowEnds, rows / 4).set(rowEnds);
    new Int32Array(memory, at.colStarts, cols / 4).set(colStarts);
    this.instance.exports.product(at.a, at.b, at.c, at.rowEnds, at.colStarts, rows, inner, cols);
    return new Float64Array(memory, at.c, rows * cols).slice();
  }

  private layout(rows: number, inner: number, cols: number): Layout {
    const a = 0, b = a + rows * inner * 8, c = b + inner * cols * 8, rowEnds = c + rows * cols * 8, colStarts = rowEnds + rows, end = colStarts + cols;
    const pages = Math.ceil(end / PAGE_BYTES) - this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > 0) this.memory.grow(pages);
    return { a, b, c, rowEnds, colStarts, end };
  }
}
