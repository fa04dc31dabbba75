/**
 * Picks the backend for a run and records why: `auto` prefers WebGPU and falls back to the CPU with
 * the reason stated, `cpu` and `webgpu` force one. On a software adapter (lavapipe, SwiftShader: the
 * "GPU" is the CPU again) `auto` races the two and keeps the faster, saying so. A WebGPU failure
 * later in a run is EngineError('GPU_FAILURE'); the engine worker repeats an `auto` run on the CPU.
 */
import type { BackendReport } from '../protocol/run';
import type { Backend } from './backend';
import { createCpuBackend } from './cpu/createCpuBackend';
import { EngineError, isEngineError } from './errors';
import { duringNativeAsync } from './nativeActivity';
import { RACE_SHAPE, timeLinear } from './webgpu/selfBenchmark';
import { WebGpuBackend } from './webgpu/webgpuBackend';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

/** The backend a run gets, and the report of that choice. */
export interface BackendSelection extends BackendReport {
  readonly backend: Backend;
}

export function parseBackendChoice(value: string): BackendChoice {
  if (value === 'auto' || value === 'cpu' || value === 'webgpu') return value;
  throw new EngineError('BAD_INPUT', `Unknown backend "${value}": use auto, cpu or webgpu.`);
}

export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  if (choice === 'cpu') return onCpu(null);
  let gpu: WebGpuBackend;
  try {
    gpu = await duringNativeAsync({ task: 'gpu-start' }, () => WebGpuBackend.create());
  } catch (err) {
    const reason = isEngineError(err) ? err.message : `WebGPU could not start: ${(err as Error).message}`;
    if (choice === 'webgpu') throw isEngineError(err) ? err : new EngineError('NO_GPU', reason, { remedies: ['use-cpu'] });
    return onCpu(reason);
  }
  const adapter = gpu.description.name;
  if (choice === 'webgpu' || !gpu.software) return { backend: gpu, used: 'webgpu', adapter, fallbackReason: null };
  return raceOnSoftwareAdapter(gpu, adapter);
}

function onCpu(fallbackReason: string | null): BackendSelection {
  const cpu = createCpuBackend();
  return { backend: cpu, used: 'cpu', adapter: cpu.description.name, fallbackReason };
}

async function raceOnSoftwareAdapter(gpu: WebGpuBackend, adapter: string): Promise<BackendSelection> {
  const task = `a ${RACE_SHAPE.rows}×${RACE_SHAPE.inDim}·${RACE_SHAPE.inDim}×${RACE_SHAPE.outDim} matmul`;
  let gpuMs: number;
  try {
    gpuMs = await timeLinear(gpu);
  } catch (err) {
    gpu.dispose();
    return onCpu(`${adapter} is a software adapter and failed its self-benchmark: ${(err as Error).message}`);
  }
  const cpu = onCpu(null);
  const cpuMs = await timeLinear(cpu.backend);
  const times = `${gpuMs.toFixed(1)} ms on WebGPU vs ${cpuMs.toFixed(1)} ms on the CPU for ${task}`;
  if (gpuMs < cpuMs) {
    cpu.backend.dispose();
    return { backend: gpu, used: 'webgpu', adapter: `${adapter} (software adapter, chosen by a quick self-benchmark: ${times})`, fallbackReason: null };
  }
  gpu.dispose();
  return { ...cpu, fallbackReason: `${adapter} is a software adapter, and a quick self-benchmark found the CPU faster (${times})` };
}
