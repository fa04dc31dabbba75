/**
 * The fast CPU backend: the reference kernels' semantics computed by WebAssembly SIMD kernels (wasm/)
 * on one thread per core. Tensors live in one shared WebAssembly memory; 2-D weights are packed at
 * upload into the sgemm's panel layout (the embedding lookup reads that layout directly). Cheap
 * data movement (gather, split, RoPE, concatenation) runs in JavaScript on views of the same memory,
 * with the reference kernels where they fit.
 */
import * as os from 'os';
import type {
  AttentionOptions, AttentionResult, Backend, BackendDescription, DeviceTensor, HeadLayout, LinearOptions,
  LiveTensors, PointwiseActivation, RopeSpec, SplitPart,
} from '../../backend';
import { checkValueNormShapes } from '../../backend';
import { HostTensor, numel, type RowSource, toFloat32 } from '../../tensor';
import * as reference from '../reference';
import { ATTENTION_ROWS } from './attention';
import { ACTIVATION_CODES } from './linear';
import { headFactors } from './headFactors';
import { Heap } from './heap';
import { compileKernels, wasmFeatures } from './kernelModule';
import { ELEMENT_BLOCK, ELEMENTWISE } from './elementwise';
import { NORM_ROWS } from './norm';
import { ThreadPool } from './threadPool';
import { TILE_COLS } from './tile';
import { wasmApi } from './wasmApi';
import { type LayerShape, packLayer } from '../../../protocol/packing';
import { blockedRows, fromBfloat16, packPanels, panelElements, type PanelElements, panelIndex, rowsOf } from './weightPanels';

/** Set to a number to choose the kernel threads (default: one per core). */
const CPU_THREADS_ENV = 'ATTENTION_INSPECTOR_CPU_THREADS';
const KERNELS = ['gemm', 'gemm_bf16', 'pack_kv', 'attention', 'layer_norm', 'rms_norm', 'elementwise', 'to_half'];
/** sgemm task shape: rows × panels of TILE_COLS columns. */
const GEMM_ROW_BLOCK = 64;
const GEMM_PANEL_BLOCK = 16;
/** Elements per float16 conversion round in readHalf. */
const HALF_CHUNK = 1 << 22;

/**
 * `rows`: row-major float32. `panels`: a linear weight packed as [out / TILE_COLS][in][TILE_COLS];
 * `panels-bf16`: the same of bfloat16 elements (weightPanels.ts).
 */
type Layout = 'rows' | 'panels' | 'panels-bf16';

class WasmTensor implements DeviceTensor {
  /** Its block went back to the heap: a second release must not free a block handed out since. */
  released = false;

  constructor(
    readonly shape: readonly number[],
    readonly offset: number,
    readonly layout: Layout = 'rows',
  ) {}
}

function tensor(t: DeviceTensor): WasmTensor {
  return t as WasmTensor;
}

function cols(t: DeviceTensor): number {
  return t.shape[t.shape.length - 1];
}

export interface WasmCpuOptions {
  /** Kernel threads including the calling one; default ATTENTION_INSPECTOR_CPU_THREADS or one per core. */
  readonly threads?: number;
  /** Use relaxed-SIMD fused multiply-add where the engine has it (default true); false: plain SIMD128. */
  readonly fma?: boolean;
}

export function defaultCpuThreads(): number {
  const fromEnv = Number(process.env[CPU_THREADS_ENV]);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
}

/** Why the WebAssembly CPU backend cannot run here, or null when it can. */
export function wasmCpuUnavailableReason(): string | null {
  if (!wasmApi) return 'this JavaScript engine has no WebAssembly';
  return wasmFeatures().simd ? null : 'this JavaScript engine has no WebAssembly SIMD';
}

export class WasmCpuBackend implements Backend {
  readonly description: BackendDescription;
  private readonly heap = new Heap();
  private readonly pool: ThreadPool;
  private readonly weights = new Set<WasmTensor>();
  /** valueNorms' R factors of each output projection uploaded as a weight, one packed tensor per kv head. */
  private readonly factors = new WeakMap<WasmTensor, WasmTensor[]>();

  constructor(options: WasmCpuOptions = {}) {
    const reason = wasmCpuUnavailableReason();
    if (reason) throw new Error(`The WebAssembly CPU backend cannot run: ${reason}.`);
    const threads = Math.max(1, Math.floor(options.threads ?? defaultCpuThreads()));
    const fma = (options.fma ?? true) && wasmFeatures().relaxedSimd;
    const module = compileKernels(fma);
    const instance = new wasmApi!.Instance(module, { env: { memory: this.heap.memory } });
    this.pool = new ThreadPool(module, this.heap.memory, instance, threads, KERNELS);
    this.description = { kind: 'cpu', name: `CPU (WebAssembly SIMD${fma ? ' + FMA' : ''}, ${threads} thread${threads === 1 ? '' : 's'})` };
  }

  /** Bytes of WebAssembly memory in use at the high-water mark (weights, activations, one layer's attention). */
  get peakMemoryBytes(): number {
    return this.heap.peakBytes;
  }

  /** Bytes that can be allocated at the top of the kernels' memory before it grows. */
  get headroomBytes(): number {
    return this.heap.headroomBytes;
  }

  upload(weight: HostTensor): DeviceTensor {
    // A 16-bit matrix is widened row by row as it is packed: no float32 copy of it all (545 MB for
    // Qwen2.5-0.5B's bfloat16 embedding) is made on the way.
    const t = weight.shape.length === 2 ? this.packed(rowsOf(weight), weight.shape, panelElements(weight.dtype)) : this.fromFloat32(toFloat32(weight), weight.shape);
    this.weights.add(tensor(t));
    return t;
  }

  uploadRows(weight: RowSource): DeviceTensor {
    // The host never holds a large weight whole: GPT-2's 154 MB embedding was resident twice, as read
    // and as packed, at the engine's peak.
    const t = this.packed(blockedRows(weight), weight.shape, panelElements(weight.dtype));
    this.weights.add(t);
    return t;
  }

  fromFloat32(values: Float32Array, shape: readonly number[]): DeviceTensor {
    if (values.length !== numel(shape)) throw new Error(`fromFloat32: ${values.length} values for shape [${shape}]`);
    const t = this.allocate(shape);
    this.heap.f32.set(values, t.offset / 4);
    return t;
  }

  gather(table: DeviceTensor, ids: Int32Array): DeviceTensor {
    const width = cols(table);
    const out = this.allocate([ids.length, width]);
    const f32 = this.heap.f32;
    const source = tensor(table);
    const element = this.elementOf(source);
    ids.forEach((id, t) => {
      const dst = out.offset / 4 + t * width;
      if (source.layout === 'rows') f32.copyWithin(dst, source.offset / 4 + id * width, source.offset / 4 + (id + 1) * width);
      else for (let k = 0; k < width; k++) f32[dst + k] = element(id, k); // a packed table: the embedding lookup reads its panels
    });
    return out;
  }

  linear(x: DeviceTensor, weight: DeviceTensor, options: LinearOptions = {}): DeviceTensor {
    const [rows, inDim] = x.shape;
    const [outDim, wIn] = weight.shape;
    if (wIn !== inDim) throw new Error(`linear: x has ${inDim} columns but the weight expects ${wIn}`);
    const w = tensor(weight).layout !== 'rows' ? tensor(weight) : this.packed(rowsOf({ dtype: 'F32', shape: weight.shape, data: this.view(weight) }), weight.shape);
    const out = this.allocate([rows, outDim]);
    const rowBlock = Math.min(GEMM_ROW_BLOCK, rows);
    const tasks = Math.ceil(rows / rowBlock) * Math.ceil(Math.ceil(outDim / TILE_COLS) / GEMM_PANEL_BLOCK);
    this.pool.run(w.layout === 'panels-bf16' ? 'gemm_bf16' : 'gemm', [
      tensor(x).offset, w.offset, this.offsetOf(options.bias), this.offsetOf(options.residual), out.offset,
      rows, outDim, inDim, rowBlock, GEMM_PANEL_BLOCK, this.activationCode(options.activation ?? 'none'),
    ], tasks);
    if (w !== weight) this.release([w]);
    return out;
  }

  add(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    return this.elementwise(ELEMENTWISE.add, a, b, 0, 'none');
  }

  scale(x: DeviceTensor, factor: number): DeviceTensor {
    return this.elementwise(ELEMENTWISE.scale, x, x, factor, 'none');
  }

  softCap(x: DeviceTensor, cap: number): DeviceTensor {
    return this.elementwise(ELEMENTWISE.softCap, x, x, cap, 'none');
  }

  gated(gate: DeviceTensor, up: DeviceTensor, activation: PointwiseActivation): DeviceTensor {
    return this.elementwise(ELEMENTWISE.gated, gate, up, 0, activation);
  }

  layerNorm(x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor, eps: number): DeviceTensor {
    return this.norm('layer_norm', x, weight, this.offsetOf(bias), eps);
  }

  rmsNorm(x: DeviceTensor, weight: DeviceTensor, eps: number): DeviceTensor {
    // A weight shorter than the row normalizes each group (head) of that many columns: rows of groups.
    if (cols(x) % weight.shape[0] !== 0) throw new Error(`rmsNorm: a weight of ${weight.shape[0]} does not divide rows of ${cols(x)}`);
    return this.norm('rms_norm', x, weight, 0, eps, weight.shape[0]);
  }

  concatRows(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    if (cols(a) !== cols(b)) throw new Error(`concatRows: ${cols(a)} ≠ ${cols(b)} columns`);
    const out = this.allocate([a.shape[0] + b.shape[0], cols(a)]);
    const f32 = this.heap.f32;
    f32.set(this.view(a), out.offset / 4);
    f32.set(this.view(b), out.offset / 4 + numel(a.shape));
    return out;
  }

  split(x: DeviceTensor, parts: readonly SplitPart[], rope?: RopeSpec): DeviceTensor[] {
    const [rows, total] = x.shape;
    if (parts.some((part) => part.rope) && !rope) throw new Error('split: a part asks for RoPE but no RopeSpec was given');
    // Every output is allocated before the memory view is taken: see Heap.f32.
    const outputs = parts.map((part) => this.allocate([rows, part.width]));
    const f32 = this.heap.f32;
    const source = tensor(x).offset / 4;
    let start = 0;
    parts.forEach((part, i) => {
      const dst = outputs[i].offset / 4;
      for (let r = 0; r < rows; r++) f32.copyWithin(dst + r * part.width, source + r * total + start, source + r * total + start + part.width);
      if (part.rope) reference.applyRope(this.view(outputs[i]), rows, part.width, rope!);
      start += part.width;
    });
    return outputs;
  }

  attention(q: DeviceTensor, key: DeviceTensor, value: DeviceTensor, o: AttentionOptions): AttentionResult {
    const queries = q.shape[0];
    const keys = key.shape[0];
    if (o.numHeads % o.numKvHeads !== 0) throw new Error(`attention: ${o.numHeads} heads do not group over ${o.numKvHeads} kv heads`);
    if (o.slidingWindow !== undefined && !(Number.isInteger(o.slidingWindow) && o.slidingWindow > 0)) throw new Error(`attention: sliding window ${o.slidingWindow}`);
    if (o.softCap !== undefined && !(o.softCap > 0)) throw new Error(`attention: soft-cap ${o.softCap}`);
    const paddedKeys = Math.ceil(keys / TILE_COLS) * TILE_COLS;
    const paddedHeadDim = Math.ceil(o.headDim / TILE_COLS) * TILE_COLS;
    const square = [o.numHeads, queries, keys];
    // Everything is allocated before the kernels run: memory that cannot grow leaves nothing behind.
    const panels: number[] = [];
    const made: WasmTensor[] = [];
    try {
      panels.push(this.heap.alloc(o.numKvHeads * paddedKeys * o.headDim * 4), this.heap.alloc(o.numKvHeads * paddedHeadDim * keys * 4));
      const [keyPanels, valuePanels] = panels;
      const probs = this.allocate(square);
      made.push(probs);
      const scores = o.keepScores ? this.allocate(square) : undefined;
      if (scores) made.push(scores);
      const context = this.allocate([queries, o.numHeads * o.headDim]);
      made.push(context);
      this.pool.run('pack_kv', [tensor(key).offset, tensor(value).offset, keyPanels, valuePanels, keys, paddedKeys, o.numKvHeads, o.headDim], o.numKvHeads);
      this.pool.run('attention', [
        tensor(q).offset, keyPanels, valuePanels, this.offsetOf(o.positionBias), probs.offset, this.offsetOf(scores), context.offset,
        queries, keys, paddedKeys, o.numHeads, o.numKvHeads, o.headDim, o.scale, o.causal ? 1 : 0, o.softCap ?? 0, o.slidingWindow ?? 0,
      ], o.numHeads * Math.ceil(queries / ATTENTION_ROWS));
      return { probs, context, scores };
    } catch (err) {
      this.release(made);
      throw err;
    } finally {
      for (const offset of panels) this.heap.release(offset);
    }
  }

  /** ‖R_h · v‖ per head and key (headFactors.ts): one sgemm per kv head, then a sum of squares per key in JavaScript. */
  valueNorms(v: DeviceTensor, o: DeviceTensor, heads: HeadLayout): DeviceTensor {
    checkValueNormShapes(v, o, heads);
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = heads;
    const keys = v.shape[0], group = H / Hkv;
    const factors = this.factorsOf(tensor(o), heads);
    const temporary: DeviceTensor[] = [];
    try {
      const values = this.split(v, Array.from({ length: Hkv }, () => ({ width: D })));
      temporary.push(...values);
      const products = values.map((part, g) => {
        const product = this.linear(part, factors[g]);
        temporary.push(product);
        return product;
      });
      const out = this.allocate([H, keys]);
      const f32 = this.heap.f32;
      for (let h = 0; h < H; h++) {
        const product = tensor(products[Math.floor(h / group)]).offset / 4 + (h % group) * D;
        for (let j = 0; j < keys; j++) {
          let squares = 0;
          for (let d = 0; d < D; d++) squares += f32[product + j * group * D + d] ** 2;
          f32[out.offset / 4 + h * keys + j] = Math.sqrt(squares);
        }
      }
      return out;
    } finally {
      this.release(temporary);
      if (!this.weights.has(tensor(o))) factors.forEach((f) => this.free(f));
    }
  }

  async read(tensors: readonly DeviceTensor[]): Promise<Float32Array[]> {
    return tensors.map((t) => this.view(t).slice());
  }

  async readPacked(probs: DeviceTensor, shape: LayerShape): Promise<Float32Array> {
    // Row segments copied straight out of the kernels' memory (a layer that is not causal packs to itself).
    return shape.causal ? packLayer(this.view(probs), shape) : this.view(probs).slice();
  }

  /** A tensor's values as float16 bits, converted by the kernels (half the bytes of `read`). */
  async readHalf(t: DeviceTensor): Promise<Uint16Array> {
    const count = numel(t.shape);
    const source = this.rowMajor(t).offset;
    const out = new Uint16Array(count);
    // Chunk by chunk through a small scratch, so no second copy of a layer's probabilities is on the device.
    const chunk = Math.min(count, HALF_CHUNK);
    const bits = this.heap.alloc(chunk * 2);
    try {
      for (let start = 0; start < count; start += chunk) {
        const length = Math.min(chunk, count - start);
        this.pool.run('to_half', [source + start * 4, bits, length], Math.ceil(length / ELEMENT_BLOCK));
        out.set(this.heap.u16.subarray(bits / 2, bits / 2 + length), start);
      }
      return out;
    } finally {
      this.heap.release(bits);
    }
  }

  release(tensors: readonly DeviceTensor[]): void {
    for (const t of tensors) if (!this.weights.has(tensor(t))) this.free(tensor(t));
  }

  releaseWeights(weights: readonly DeviceTensor[]): void {
    for (const t of weights) {
      // An output projection's valueNorms factors go with it.
      for (const factor of [tensor(t), ...(this.factors.get(tensor(t)) ?? [])]) {
        this.weights.delete(factor);
        this.free(factor);
      }
      this.factors.delete(tensor(t));
    }
  }

  liveTensors(): LiveTensors {
    return this.heap.inUse;
  }

  dispose(): void {
    this.pool.dispose();
  }

  private free(t: WasmTensor): void {
    if (t.released) return;
    t.released = true;
    this.heap.release(t.offset);
  }

  private allocate(shape: readonly number[], layout: Layout = 'rows', bytes = numel(shape) * 4): WasmTensor {
    return new WasmTensor(shape, this.heap.alloc(bytes), layout);
  }

  private offsetOf(t: DeviceTensor | undefined): number {
    return t ? this.rowMajor(t).offset : 0;
  }

  /** Row-major values of a tensor (a fresh copy for a packed weight). */
  private view(t: DeviceTensor): Float32Array {
    const source = this.rowMajor(t);
    return this.heap.f32.subarray(source.offset / 4, source.offset / 4 + numel(t.shape));
  }

  private rowMajor(t: DeviceTensor): WasmTensor {
    const source = tensor(t);
    if (source.layout === 'rows') return source;
    throw new Error(`a packed linear weight [${t.shape}] was used as an activation; upload it with fromFloat32`);
  }

  /** [out, in] row-major values (row `n` from `row(n)`) → panels of TILE_COLS output columns, zero padded. */
  private packed(row: (n: number) => ArrayLike<number>, shape: readonly number[], elements: PanelElements = 'f32'): WasmTensor {
    const [outDim, inDim] = shape;
    const count = Math.ceil(outDim / TILE_COLS) * TILE_COLS * inDim;
    const bf16 = elements === 'bf16';
    const t = this.allocate(shape, bf16 ? 'panels-bf16' : 'panels', count * (bf16 ? 2 : 4));
    try {
      if (bf16) packPanels(this.heap.u16, t.offset / 2, row, outDim, inDim);
      else packPanels(this.heap.f32, t.offset / 4, row, outDim, inDim);
    } catch (err) {
      this.heap.release(t.offset); // rows read from disk can fail part way (a file replaced since loading)
      throw err;
    }
    return t;
  }

  /** The R factors of an output projection: made once for a weight, every call for anything else. */
  private factorsOf(o: WasmTensor, heads: HeadLayout): WasmTensor[] {
    const kept = this.factors.get(o);
    if (kept) return kept;
    // Every factor is read out of the memory before the first is packed into it (packing may grow it).
    const D = heads.headDim;
    const made = headFactors(this.elementOf(o), o.shape[0], heads).map((f) => this.packed((n) => f.subarray(n * D, (n + 1) * D), [f.length / D, D]));
    if (this.weights.has(o)) {
      made.forEach((f) => this.weights.add(f));
      this.factors.set(o, made);
    }
    return made;
  }

  /** Element (n, k) of a matrix in any layout, as float32 (its memory views taken now: read before allocating). */
  private elementOf(t: WasmTensor): (n: number, k: number) => number {
    const [f32, u16] = [this.heap.f32, this.heap.u16];
    const inDim = t.shape[1];
    if (t.layout === 'rows') return (n, k) => f32[t.offset / 4 + n * inDim + k];
    if (t.layout === 'panels') return (n, k) => f32[t.offset / 4 + panelIndex(n, k, inDim)];
    return (n, k) => fromBfloat16(u16[t.offset / 2 + panelIndex(n, k, inDim)]);
  }

  private activationCode(activation: PointwiseActivation): number {
    return ACTIVATION_CODES.indexOf(activation);
  }

  private elementwise(op: number, a: DeviceTensor, b: DeviceTensor, factor: number, activation: PointwiseActivation): DeviceTensor {
    const count = numel(a.shape);
    if (numel(b.shape) !== count) throw new Error(`elementwise: [${a.shape}] and [${b.shape}] differ`);
    const out = this.allocate(a.shape);
    this.pool.run('elementwise', [this.offsetOf(a), this.offsetOf(b), out.offset, count, op, factor, this.activationCode(activation)],
      Math.ceil(count / ELEMENT_BLOCK));
    return out;
  }

  private norm(kernel: 'layer_norm' | 'rms_norm', x: DeviceTensor, weight: DeviceTensor, bias: number, eps: number, dim = cols(x)): DeviceTensor {
    const rows = numel(x.shape) / dim;
    const out = this.allocate(x.shape);
    this.pool.run(kernel, [this.offsetOf(x), this.offsetOf(weight), bias, out.offset, rows, dim, eps], Math.ceil(rows / NORM_ROWS));
    return out;
  }
}
