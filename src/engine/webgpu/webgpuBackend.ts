/**
 * The WebGPU backend: the Backend interface over Dawn. Methods record dispatches and return handles
 * at once; `read` compiles what is new, submits the layer's work once and reads everything back in
 * one map (see runtime.ts). Matrices uploaded as F16/BF16 stay 16-bit on the GPU (half the memory
 * and bandwidth) and are unpacked by the matmul and gather loads; 1-D parameters (norm weights,
 * biases) are converted to f32 at upload, so every other kernel reads f32 only.
 *
 * Dispatches per layer: GPT-2/BERT 7 (norm, qkv, attention, projection, norm, two MLP matmuls; the
 * q/k/v split is three views), Llama/Qwen2 10 (RoPE adds one; SwiGLU's gate, up and product three).
 */
import type {
  AttentionOptions, AttentionResult, Backend, BackendDescription, DeviceTensor, HeadLayout, LinearOptions,
  LiveTensors, PointwiseActivation, RopeSpec, SplitPart,
} from '../backend';
import { checkValueNormShapes } from '../backend';
import { BYTES_PER_ELEMENT, HostTensor, numel, ROW_BLOCK_BYTES, type RowSource, type StorageDType, toFloat32 } from '../tensor';
import { attention } from './attention';
import { compact, concatRows } from './copy';
import { add, gated, scale, softCap, toF32 } from './elementwise';
import { toHalf } from './half';
import { gather } from './gather';
import { GpuDevice, GpuDeviceOptions } from './gpuDevice';
import { type GpuDType, GpuTensor } from './gpuTensor';
import { matmul } from './linear';
import { layerNorm, rmsNorm } from './norm';
import { GpuRuntime } from './runtime';
import { RopeSplitter } from './split';
import { valueNorms } from './valueNorms';

/** How a weight stored as `dtype` is kept on the GPU: 16-bit weights stay 16-bit. */
function gpuDType(dtype: StorageDType): GpuDType {
  return dtype === 'F32' ? 'f32' : dtype === 'F16' ? 'f16' : 'bf16';
}

/** writeBuffer moves whole 4-byte words: an odd count of 16-bit values gets one zero half-word of padding. */
function wholeWords(data: Float32Array | Uint16Array): Float32Array | Uint16Array {
  return data.byteLength % 4 ? Uint16Array.from({ length: data.length + 1 }, (_, i) => data[i] ?? 0) : data;
}

export class WebGpuBackend implements Backend {
  readonly description: BackendDescription;
  private readonly splitter: RopeSplitter;
  /** The device is gone: a model evicted later has nothing left here to free. */
  private disposed = false;

  private constructor(
    private readonly gpu: GpuDevice,
    /** Exposed for tests that count dispatches and pipelines. */
    readonly runtime: GpuRuntime,
  ) {
    this.description = { kind: 'webgpu', name: gpu.adapterName };
    this.splitter = new RopeSplitter(runtime);
  }

  /** Opens a device; throws EngineError('NO_GPU') with the reason when there is none to use. */
  static async create(options: GpuDeviceOptions = {}): Promise<WebGpuBackend> {
    const gpu = await GpuDevice.open(options);
    return new WebGpuBackend(gpu, new GpuRuntime(gpu));
  }

  /** A CPU-emulated adapter (lavapipe, SwiftShader): correct, but rarely faster than the CPU path. */
  get software(): boolean {
    return this.gpu.software;
  }

  upload(weight: HostTensor): DeviceTensor {
    this.gpu.throwIfFailed();
    if (weight.dtype === 'F32' || weight.shape.length < 2) return this.runtime.upload(toFloat32(weight), weight.shape, 'f32', 'weight');
    return this.runtime.upload(wholeWords(weight.data), weight.shape, gpuDType(weight.dtype), 'weight');
  }

  /** A weight written a block of rows at a time, so the host never holds it whole. */
  uploadRows(weight: RowSource): DeviceTensor {
    this.gpu.throwIfFailed();
    const [rows, width] = weight.shape;
    const rowBytes = width * BYTES_PER_ELEMENT[weight.dtype];
    // writeBuffer moves whole 4-byte words: 16-bit blocks hold an even number of rows (the last one is padded).
    const blockRows = Math.max(2, Math.floor(ROW_BLOCK_BYTES / rowBytes) & ~1);
    const t = this.runtime.allocate(weight.shape, gpuDType(weight.dtype), 'weight');
    try {
      for (let start = 0; start < rows; start += blockRows) {
        const words = wholeWords(weight.read(start, Math.min(blockRows, rows - start)).data);
        this.runtime.device.queue.writeBuffer(t.buffer, start * rowBytes, words.buffer, words.byteOffset, words.byteLength);
      }
    } catch (err) {
      t.release(); // a file replaced since loading fails part way
      throw err;
    }
    return t;
  }

  fromFloat32(values: Float32Array, shape: readonly number[]): DeviceTensor {
    this.gpu.throwIfFailed();
    if (values.length !== numel(shape)) throw new Error(`fromFloat32: ${values.length} values for shape [${shape}]`);
    return this.runtime.upload(values, shape, 'f32', 'host values');
  }

  gather(table: DeviceTensor, ids: Int32Array): DeviceTensor {
    return gather(this.runtime, this.handle(table), ids);
  }

  linear(x: DeviceTensor, weight: DeviceTensor, options: LinearOptions = {}): DeviceTensor {
    return this.withF32([x, options.bias, options.residual], ([input, bias, residual]) =>
      matmul(this.runtime, { x: input!, weight: this.handle(weight), bias, residual, activation: options.activation ?? 'none' }));
  }

  add(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    return this.withF32([a, b], ([x, y]) => add(this.runtime, x!, y!));
  }

  scale(x: DeviceTensor, factor: number): DeviceTensor {
    return this.withF32([x], ([input]) => scale(this.runtime, input!, factor));
  }

  softCap(x: DeviceTensor, cap: number): DeviceTensor {
    return this.withF32([x], ([input]) => softCap(this.runtime, input!, cap));
  }

  layerNorm(x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor, eps: number): DeviceTensor {
    return this.withF32([x, weight, bias], ([input, w, b]) => layerNorm(this.runtime, input!, w!, b!, eps));
  }

  rmsNorm(x: DeviceTensor, weight: DeviceTensor, eps: number): DeviceTensor {
    return this.withF32([x, weight], ([input, w]) => {
      const group = w!.shape[0];
      if (group === input!.cols) return rmsNorm(this.runtime, input!, w!, eps);
      // Per-head norm: the dense input seen as rows of one head each, the output seen back as [rows, cols].
      if (input!.cols % group !== 0) throw new Error(`rmsNorm: a weight of ${group} does not divide rows of ${input!.cols}`);
      const heads = input!.view([input!.rows * (input!.cols / group), group], 0, group);
      const normed = rmsNorm(this.runtime, heads, w!, eps);
      const out = normed.view(input!.shape, 0, input!.cols);
      heads.release();
      normed.release();
      return out;
    });
  }

  gated(gate: DeviceTensor, up: DeviceTensor, activation: PointwiseActivation): DeviceTensor {
    return this.withF32([gate, up], ([g, u]) => gated(this.runtime, g!, u!, activation));
  }

  concatRows(a: DeviceTensor, b: DeviceTensor): DeviceTensor {
    const [top, bottom] = [a, b].map((t) => this.handle(t));
    return concatRows(this.runtime, top, bottom);
  }

  split(x: DeviceTensor, parts: readonly SplitPart[], rope?: RopeSpec): DeviceTensor[] {
    const input = this.handle(x);
    if (input.dtype === 'f32') return this.splitter.split(input, parts, rope);
    const converted = toF32(this.runtime, input);
    try {
      return this.splitter.split(converted, parts, rope);
    } finally {
      converted.release();
    }
  }

  attention(q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, options: AttentionOptions): AttentionResult {
    // q, k and v are usually views of one projection: the kernel reads them strided, in place.
    const views = [q, k, v].map((t) => this.handle(t));
    const converted = views.map((t) => (t.dtype === 'f32' ? t : toF32(this.runtime, t)));
    try {
      return this.withF32([options.positionBias], ([bias]) => attention(this.runtime, converted[0], converted[1], converted[2], bias, options));
    } finally {
      converted.forEach((t, i) => t !== views[i] && t.release());
    }
  }

  valueNorms(v: DeviceTensor, o: DeviceTensor, heads: HeadLayout): DeviceTensor {
    checkValueNormShapes(v, o, heads);
    const weight = this.handle(o);
    return this.withF32([v], ([values]) => valueNorms(this.runtime, values!, weight, heads));
  }

  async read(tensors: readonly DeviceTensor[]): Promise<Float32Array[]> {
    this.gpu.throwIfFailed();
    const temporary: GpuTensor[] = [];
    const readable = tensors.map((t) => {
      let g = this.handle(t);
      if (g.dtype !== 'f32') temporary.push((g = toF32(this.runtime, g)));
      if (!g.contiguous) temporary.push((g = compact(this.runtime, g)));
      return g;
    });
    try {
      return (await this.runtime.read(readable)).map((bytes) => new Float32Array(bytes));
    } finally {
      for (const t of temporary) t.release();
    }
  }

  /** Probabilities as float16 bits, packed on the GPU so only half the bytes come back. */
  async readHalf(tensor: DeviceTensor): Promise<Uint16Array> {
    const packed = this.withF32([tensor], ([input]) => toHalf(this.runtime, input!));
    try {
      const [bytes] = await this.runtime.read([packed]);
      return new Uint16Array(bytes);
    } finally {
      packed.release();
    }
  }

  release(tensors: readonly DeviceTensor[]): void {
    for (const t of tensors) (t as GpuTensor).release();
  }

  releaseWeights(weights: readonly DeviceTensor[]): void {
    if (!this.disposed) this.release(weights);
  }

  liveTensors(): LiveTensors {
    return this.runtime.liveTensors;
  }

  /** Frees every buffer, destroys the device and lets go of Dawn, so Node can exit. */
  dispose(): void {
    this.disposed = true;
    this.runtime.dispose();
    this.gpu.destroy();
  }

  private handle(t: DeviceTensor): GpuTensor {
    this.gpu.throwIfFailed();
    if (!(t instanceof GpuTensor)) throw new Error('This tensor does not belong to the WebGPU backend.');
    if (t.isReleased) throw new Error(`A [${t.shape}] tensor was used after it was released.`);
    return t;
  }

  /**
   * Runs a kernel on dense f32 versions of its (optional) inputs: 16-bit tensors are converted and
   * strided views copied first, into temporaries released once the kernel is recorded.
   */
  private withF32<T>(inputs: readonly (DeviceTensor | undefined)[], kernel: (inputs: (GpuTensor | undefined)[]) => T): T {
    const temporary: GpuTensor[] = [];
    const ready = inputs.map((t) => {
      if (!t) return undefined;
      let g = this.handle(t);
      if (!g.dense && g.dtype === 'f32') temporary.push((g = compact(this.runtime, g)));
      if (g.dtype !== 'f32') temporary.push((g = toF32(this.runtime, g)));
      return g;
    });
    try {
      return kernel(ready);
    } finally {
      for (const t of temporary) t.release();
    }
  }
}
