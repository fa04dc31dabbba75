/**
 * Picks the backend for a run and records why: `auto` prefers WebGPU and falls back to the CPU with
 * the reason stated, `cpu` and `webgpu` force one.
 */
import type { Backend } from './backend';
import { createCpuBackend } from './cpu/createCpuBackend';
import { EngineError } from './errors';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

export interface BackendSelection {
  readonly backend: Backend;
  readonly used: 'cpu' | 'webgpu';
  /** Adapter name for WebGPU, "CPU (JavaScript)" for the CPU. */
  readonly adapter: string;
  /** Why WebGPU was not used, when it was not. */
  readonly fallbackReason: string | null;
}

export function parseBackendChoice(value: string): BackendChoice {
  if (value === 'auto' || value === 'cpu' || value === 'webgpu') return value;
  throw new EngineError('BAD_INPUT', `Unknown backend "${value}": use auto, cpu or webgpu.`);
}

export async function selectBackend(choice: BackendChoice): Promise<BackendSelection> {
  const cpu = createCpuBackend();
  if (choice === 'webgpu') throw new EngineError('NO_GPU', 'The WebGPU backend is not available in this build; use --backend cpu.');
  return {
    backend: cpu, used: 'cpu', adapter: cpu.description.name,
    fallbackReason: choice === 'auto' ? 'WebGPU backend not built yet' : null,
  };
}
