/// <reference types="@webgpu/types" />
/**
 * Opening a WebGPU device through Dawn (npm `webgpu`) and watching it for failure. Everything that
 * can go wrong before the first kernel (no package, no adapter, no device, a host that cannot map
 * buffers) becomes EngineError('NO_GPU') with a reason a user can act on; anything that goes wrong
 * later (device lost, an uncaptured error) is recorded in `failure`, and the backend turns it into
 * EngineError('GPU_FAILURE') at its next synchronization point.
 */
import { EngineError, type Remedy } from '../errors';

/** Set to 1 to act as if there were no adapter (tests, and users whose GPU driver misbehaves). */
export const NO_WEBGPU_ENV = 'ATTENTION_INSPECTOR_NO_WEBGPU';

export interface GpuDeviceOptions {
  /** Plan as if the storage binding limit were this small (tests exercise the splitting with it). */
  readonly maxStorageBufferBindingSize?: number;
}

/** The limits kernels plan with (requested at the adapter's maximum). */
export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

type DawnModule = { create(flags: string[]): GPU };

/**
 * WebGPU's flag values, fixed by the spec. Used instead of Dawn's `GPUBufferUsage`/`GPUMapMode`
 * globals, which exist only after the package is loaded and would otherwise have to be put on globalThis.
 */
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_MODE_READ = 0x1;
export const SHADER_STAGE_COMPUTE = 0x4;

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|basic render/i;

export class GpuDevice {
  /** Why the device can no longer be used, once it cannot. */
  failure: string | null = null;

  private constructor(
    // Dawn's instance must stay referenced while any adapter or device lives (see webgpu-in-node.md):
    // a collected instance crashes the process inside InstanceBase::ProcessEvents.
    private instance: GPU | undefined,
    readonly device: GPUDevice,
    readonly adapterName: string,
    /** A CPU-emulated adapter: a correctness target, not a speed target. */
    readonly software: boolean,
    readonly limits: GpuLimits,
  ) {
    device.lost.then((info) => {
      if (!this.disposed) this.fail(`the WebGPU device was lost (${info.reason}): ${info.message || 'no details'}`);
    });
    device.addEventListener('uncapturederror', (event) => {
      this.fail(`WebGPU reported an error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  static async open(options: GpuDeviceOptions = {}): Promise<GpuDevice> {
    if (process.env[NO_WEBGPU_ENV] === '1') throw noGpu(`WebGPU is turned off by ${NO_WEBGPU_ENV}=1`);
    let dawn: DawnModule;
    try {
      dawn = (await import('webgpu')) as unknown as DawnModule;
    } catch (err) {
      // No package (the universal .vsix) or no Dawn binary for this platform in it: say that, not the resolver's error.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw noGpu(`this installation has no WebGPU runtime (Dawn) for ${process.platform}-${process.arch}; `
          + 'the universal package and platforms without a Dawn build run on the CPU');
      }
      throw noGpu(`the WebGPU runtime (npm package "webgpu") could not be loaded: ${(err as Error).message}`);
    }
    const instance = dawn.create([]);
    const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw noGpu('no WebGPU adapter was found (Dawn needs a Vulkan, Metal or D3D12 driver)', ['install-webgpu', 'use-cpu']);
    }
    const info = adapter.info;
    const adapterName = [info.description, info.device, info.vendor, info.architecture].find((s) => s) ?? 'unknown adapter';
    const software = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true
      || SOFTWARE_ADAPTER.test(`${info.description} ${info.device} ${info.vendor} ${info.architecture}`);
    const a = adapter.limits;
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({
        label: 'attention-inspector',
        requiredLimits: {
          maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
          maxBufferSize: a.maxBufferSize,
          maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
          maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
        },
      });
    } catch (err) {
      throw noGpu(`the adapter ${adapterName} refused to create a device: ${(err as Error).message}`);
    }
    const d = device.limits;
    const gpu = new GpuDevice(instance, device, adapterName, software, {
      maxStorageBufferBindingSize: Math.min(d.maxStorageBufferBindingSize, options.maxStorageBufferBindingSize ?? Infinity),
      maxBufferSize: d.maxBufferSize,
      minStorageBufferOffsetAlignment: d.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: d.minUniformBufferOffsetAlignment,
      maxComputeWorkgroupsPerDimension: d.maxComputeWorkgroupsPerDimension,
    });
    try {
      await gpu.probeReadback();
    } catch (err) {
      gpu.destroy();
      throw noGpu(`WebGPU results cannot be read back in this host (${(err as Error).message}); desktop VS Code's Electron `
        + 'may refuse the external buffers dawn.node maps (dawn-gpu/node-webgpu#5)');
    }
    return gpu;
  }

  /** Writes a pattern, copies it into a mappable buffer, maps it and checks every byte. */
  private async probeReadback(): Promise<void> {
    const pattern = Uint32Array.from({ length: 16 }, (_, i) => 0x9e3779b9 ^ (i * 2654435761));
    const source = this.device.createBuffer({ label: 'probe source', size: pattern.byteLength, usage: Usage.COPY_SRC | Usage.COPY_DST });
    const staging = this.device.createBuffer({ label: 'probe staging', size: pattern.byteLength, usage: Usage.MAP_READ | Usage.COPY_DST });
    try {
      this.device.queue.writeBuffer(source, 0, pattern);
      const encoder = this.device.createCommandEncoder({ label: 'probe' });
      encoder.copyBufferToBuffer(source, 0, staging, 0, pattern.byteLength);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(MAP_MODE_READ);
      const back = new Uint32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      if (back.some((v, i) => v !== pattern[i])) throw new Error('the probe read back different bytes than it wrote');
    } finally {
      source.destroy();
      staging.destroy();
    }
  }

  /** Records the first failure only: later errors are usually consequences of it. */
  fail(reason: string): void {
    this.failure ??= reason;
  }

  /** Destroyed on purpose: Dawn's instance has been let go. */
  get disposed(): boolean {
    return this.instance === undefined;
  }

  throwIfFailed(): void {
    if (this.disposed) throw new EngineError('GPU_FAILURE', 'The WebGPU backend was already disposed.');
    if (this.failure) throw gpuFailure(this.failure);
  }

  /** Destroys the device and lets go of Dawn's instance, so Node's event loop can end. */
  destroy(): void {
    if (this.disposed) return;
    this.instance = undefined;
    this.device.destroy();
  }
}

export function gpuFailure(reason: string): EngineError {
  const sentence = reason.trim().replace(/\.$/, '');
  return new EngineError('GPU_FAILURE', `${sentence[0].toUpperCase()}${sentence.slice(1)}.`, { remedies: ['use-cpu'] });
}

function noGpu(reason: string, remedies: readonly Remedy[] = ['use-cpu']): EngineError {
  return new EngineError('NO_GPU', `WebGPU is not available: ${reason}.`, { remedies });
}
