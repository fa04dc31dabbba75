/**
 * The CPU backends the numeric suites run against: the JavaScript reference and the WebAssembly SIMD
 * kernels, both with relaxed-SIMD FMA on the default thread count and as plain SIMD128 on one thread
 * (the two code paths a user's machine may take).
 */
import type { Backend } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { WasmCpuBackend } from '../../src/engine/cpu/wasm/wasmBackend';

export interface CpuTestBackend {
  readonly name: string;
  create(): Promise<Backend>;
}

export function cpuBackends(): CpuTestBackend[] {
  return [
    { name: 'cpu', create: async () => new ReferenceBackend() },
    { name: 'cpu-wasm', create: async () => new WasmCpuBackend() },
    { name: 'cpu-wasm-simd128-1thread', create: async () => new WasmCpuBackend({ threads: 1, fma: false }) },
  ];
}
