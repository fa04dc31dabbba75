/**
 * The backend a run used, as the status bar and the panel header name it: a short label, with the
 * long story (the adapter's full name, the self-benchmark's times, why not WebGPU) kept for a tooltip.
 */
import type { BackendReport } from '../protocol/run';

export interface BackendSummary {
  /** "NVIDIA H100", "llvmpipe (software GPU)", "CPU". */
  readonly label: string;
  /** Everything the engine said about the choice, for a tooltip. */
  readonly detail: string;
}

export function backendSummary(backend: BackendReport): BackendSummary {
  if (backend.used === 'webgpu') {
    // The engine appends its self-benchmark verdict to a software adapter's name in parentheses.
    const name = backend.adapter.split(' (')[0];
    const software = backend.adapter.includes('software adapter');
    return { label: software ? `${name} (software GPU)` : name, detail: `WebGPU on ${backend.adapter}` };
  }
  const detail = backend.fallbackReason ? `${backend.adapter}. Not on WebGPU: ${backend.fallbackReason}` : backend.adapter;
  return { label: 'CPU', detail };
}
