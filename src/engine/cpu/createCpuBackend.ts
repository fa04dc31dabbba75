/**
 * The CPU backend a run gets: the WebAssembly SIMD kernels on one thread per core where the
 * JavaScript engine has WebAssembly SIMD, else the JavaScript reference, whose name then says why.
 */
import type { Backend } from '../backend';
import { ReferenceBackend } from './reference/referenceBackend';
import { WasmCpuBackend, wasmCpuUnavailableReason } from './wasm/wasmBackend';

export function createCpuBackend(): Backend {
  let reason = wasmCpuUnavailableReason();
  if (!reason) {
    try {
      return new WasmCpuBackend();
    } catch (err) {
      reason = `the WebAssembly kernels failed to start: ${(err as Error).message}`;
    }
  }
  return new ReferenceBackend(reason);
}
