/// <reference types="@webgpu/types" />
/**
 * Records dispatches as the (synchronous) Backend methods are called and runs them at the next
 * `read`: pipelines are compiled there, once per cache key, with createComputePipelineAsync (so the
 * LLVM/driver compile never blocks the thread), then every recorded dispatch goes into one compute
 * pass, the readback copies follow, and the whole layer is one submit and one map.
 *
 * Buffer lifetime: a tensor released while work that may use it is not yet submitted goes back to the
 * pool only after that submit. Uploads use queue.writeBuffer, which runs before any later submit, so
 * a pooled buffer must never be handed out while unsubmitted work still refers to it.
 */
import { BufferPool } from './bufferPool';
import { GpuDevice, MAP_MODE_READ, SHADER_STAGE_COMPUTE, Usage, gpuFailure } from './gpuDevice';
import { BYTES, GpuDType, GpuTensor, Storage } from './gpuTensor';
import { Dispatch, KernelProgram, alignUp, packUniforms, shaderSource, uniformBytes } from './program';
import { EngineError, isEngineError } from '../errors';
import { numel } from '../tensor';

interface Compiled {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export class GpuRuntime {
  readonly pool: BufferPool;
  /** Dispatches recorded since the device was opened (tests count them per layer). */
  dispatchCount = 0;
  /** Storages handed out for tensors (not the backend's own caches) and not yet freed, and their buffers' bytes. */
  private live = { count: 0, bytes: 0 };
  private queued: Dispatch[] = [];
  /** Batches taken from `queued` whose submit has not happened yet. */
  private submitting = 0;
  private waitingForSubmit: GPUBuffer[] = [];
  private readonly pipelines = new Map<string, Promise<Compiled>>();
  private previous: Promise<unknown> = Promise.resolve();

  /** Bound where a kernel's optional input is absent (a uniform tells the kernel not to read it). */
  readonly placeholder: GPUBufferBinding;

  constructor(readonly gpu: GpuDevice) {
    this.pool = new BufferPool(gpu.device, gpu.limits.maxBufferSize);
    this.placeholder = { buffer: gpu.device.createBuffer({ label: 'placeholder', size: 16, usage: Usage.STORAGE }) };
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** Distinct pipelines compiled so far. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** `holder` 'cache': the backend's own cache (RoPE angles), left out of `liveTensors`. */
  allocate(shape: readonly number[], dtype: GpuDType, label: string, holder: 'tensor' | 'cache' = 'tensor'): GpuTensor {
    const bytes = Math.max(4, numel(shape) * BYTES[dtype]);
    if (bytes > this.gpu.limits.maxBufferSize) {
      throw new EngineError('TOO_MANY_TOKENS', `A ${shape.join('×')} ${dtype} tensor needs ${bytes} bytes, more than this GPU's largest buffer (${this.gpu.limits.maxBufferSize}).`, { remedies: ['shorter-input', 'use-cpu'] });
    }
    const counted = holder === 'tensor';
    const storage = new Storage(this.pool.acquire(bytes, label), (s) => this.free(s, counted));
    if (counted) this.live = { count: this.live.count + 1, bytes: this.live.bytes + storage.buffer.size };
    return new GpuTensor(shape, dtype, storage);
  }

  get liveTensors(): { count: number; bytes: number } {
    return this.live;
  }

  /** A new tensor holding `data` (its byte length must be a multiple of 4). */
  upload(data: Float32Array | Uint16Array | Uint32Array, shape: readonly number[], dtype: GpuDType, label: string, holder: 'tensor' | 'cache' = 'tensor'): GpuTensor {
    const t = this.allocate(shape, dtype, label, holder);
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  record(dispatch: Dispatch): void {
    this.queued.push(dispatch);
    this.dispatchCount++;
  }

  private free(storage: Storage, counted: boolean): void {
    if (counted) this.live = { count: this.live.count - 1, bytes: this.live.bytes - storage.buffer.size };
    if (this.queued.length || this.submitting) this.waitingForSubmit.push(storage.buffer);
    else this.pool.release(storage.buffer);
  }

  /** Runs everything recorded so far and reads the given contiguous tensors' bytes back, in order. */
  read(tensors: readonly GpuTensor[]): Promise<ArrayBuffer[]> {
    const batch = this.queued;
    this.queued = [];
    this.submitting++;
    // Batches submit in the order they were recorded, even if a later one compiles faster.
    const result = this.previous.then(() => this.submitAndRead(batch, tensors));
    this.previous = result.catch(() => undefined);
    return result;
  }

  private async submitAndRead(batch: readonly Dispatch[], tensors: readonly GpuTensor[]): Promise<ArrayBuffer[]> {
    const { device } = this;
    let submitted = false;
    const temporary: GPUBuffer[] = [];
    try {
      this.gpu.throwIfFailed();
      const compiled = await Promise.all(batch.map((d) => this.compiled(d.program)));
      this.gpu.throwIfFailed();
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder({ label: 'layer' });
      if (batch.length) this.encodeDispatches(encoder, batch, compiled, temporary);
      const readbacks = this.encodeReadbacks(encoder, tensors, temporary);
      device.queue.submit([encoder.finish()]);
      submitted = true;
      this.afterSubmit();
      const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e);
      if (errors.length) this.gpu.fail(errors.map((e) => e!.message).join('; '));
      this.gpu.throwIfFailed();
      return await readbacks();
    } catch (err) {
      if (isEngineError(err)) throw err;
      this.gpu.fail((err as Error).message);
      throw gpuFailure((err as Error).message);
    } finally {
      if (!submitted) this.afterSubmit();
      for (const b of temporary) b.destroy();
    }
  }

  private afterSubmit(): void {
    this.submitting--;
    if (this.queued.length || this.submitting) return;
    for (const b of this.waitingForSubmit) this.pool.release(b);
    this.waitingForSubmit = [];
  }

  private encodeDispatches(encoder: GPUCommandEncoder, batch: readonly Dispatch[], compiled: readonly Compiled[], temporary: GPUBuffer[]): void {
    const align = this.gpu.limits.minUniformBufferOffsetAlignment;
    const offsets: number[] = [];
    let total = 0;
    for (const d of batch) {
      offsets.push(total);
      total += alignUp(uniformBytes(d.program), align);
    }
    const arena = new DataView(new ArrayBuffer(total));
    batch.forEach((d, i) => packUniforms(d.program, d.uniformValues, arena, offsets[i]));
    const uniforms = this.device.createBuffer({ label: 'uniforms', size: total, usage: Usage.UNIFORM | Usage.COPY_DST });
    temporary.push(uniforms);
    this.device.queue.writeBuffer(uniforms, 0, arena.buffer);
    const pass = encoder.beginComputePass({ label: 'layer' });
    batch.forEach((d, i) => {
      const group = this.device.createBindGroup({
        label: d.program.label,
        layout: compiled[i].layout,
        entries: [
          { binding: 0, resource: { buffer: uniforms, offset: offsets[i], size: uniformBytes(d.program) } },
          ...d.buffers.map((resource, j) => ({ binding: j + 1, resource })),
        ],
      });
      pass.setPipeline(compiled[i].pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...d.workgroups);
    });
    pass.end();
  }

  /** Copies every tensor into mappable staging buffers (as few as the buffer size limit allows). */
  private encodeReadbacks(encoder: GPUCommandEncoder, tensors: readonly GpuTensor[], temporary: GPUBuffer[]): () => Promise<ArrayBuffer[]> {
    const limit = this.gpu.limits.maxBufferSize;
    const placed: { staging: number; at: number; bytes: number }[] = [];
    const sizes: number[] = [];
    for (const t of tensors) {
      if (!t.contiguous) throw new Error('read needs contiguous tensors');
      // Copies move whole 4-byte words; an odd count of 16-bit values brings its padding along.
      const copied = alignUp(t.byteLength, 4);
      if (!sizes.length || sizes[sizes.length - 1] + copied > limit) sizes.push(0);
      placed.push({ staging: sizes.length - 1, at: sizes[sizes.length - 1], bytes: t.byteLength });
      sizes[sizes.length - 1] += copied;
    }
    const staging = sizes.map((size) => this.device.createBuffer({ label: 'readback', size: Math.max(size, 4), usage: Usage.MAP_READ | Usage.COPY_DST }));
    temporary.push(...staging);
    tensors.forEach((t, i) => {
      encoder.copyBufferToBuffer(t.buffer, t.offset * BYTES[t.dtype], staging[placed[i].staging], placed[i].at, alignUp(t.byteLength, 4));
    });
    return async () => {
      await Promise.all(staging.map((s) => s.mapAsync(MAP_MODE_READ)));
      const ranges = staging.map((s) => s.getMappedRange());
      const out = placed.map((p) => ranges[p.staging].slice(p.at, p.at + p.bytes));
      for (const s of staging) s.unmap();
      return out;
    };
  }

  private compiled(program: KernelProgram): Promise<Compiled> {
    let compiled = this.pipelines.get(program.cacheKey);
    if (!compiled) {
      compiled = this.compile(program);
      this.pipelines.set(program.cacheKey, compiled);
    }
    return compiled;
  }

  private async compile(program: KernelProgram): Promise<Compiled> {
    const { device } = this;
    const module = device.createShaderModule({ label: program.label, code: shaderSource(program) });
    const layout = device.createBindGroupLayout({
      label: program.label,
      entries: [
        { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform' } },
        ...program.bindings.map((b, i) => ({ binding: i + 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: b.write ? 'storage' as const : 'read-only-storage' as const } })),
      ],
    });
    try {
      const pipeline = await device.createComputePipelineAsync({
        label: program.label,
        layout: device.createPipelineLayout({ label: program.label, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      return { pipeline, layout };
    } catch (err) {
      const info = await module.getCompilationInfo();
      const messages = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
      throw gpuFailure(`the ${program.label} kernel did not compile (${messages || (err as Error).message})`);
    }
  }

  dispose(): void {
    this.queued = [];
    this.pool.destroy();
    this.placeholder.buffer.destroy();
  }
}
