/**
 * Builds the kernel module for what this Node supports: WebAssembly SIMD128 is required; relaxed SIMD
 * (one-rounding FMA) is used when the engine validates it. Node 20's V8 has relaxed SIMD behind a flag,
 * which is switched on here, before the first compile, because V8 flags are process-wide and every
 * pool thread then compiles the same module.
 */
import * as v8 from 'v8';
import { encodeModule, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { gemmFunction } from './linear';
import { f32x4, fusedMultiplyAdd, local, v128 } from './ops';
import { attentionFunctions } from './attention';
import { elementwiseFunction } from './elementwise';
import { toHalfFunction } from './half';
import { normFunctions } from './norm';
import { WasmModule, wasmApi } from './wasmApi';

/** The kernels' address space: a shared memory that may grow to 4 GiB (the wasm32 limit). */
export const MAX_PAGES = 65536;
export const PAGE_BYTES = 65536;

export interface WasmFeatures {
  readonly simd: boolean;
  readonly relaxedSimd: boolean;
}

/** The smallest module that uses one instruction, to ask the engine whether it knows it. */
function probe(relaxed: boolean): Uint8Array {
  const fn = new FunctionBuilder('probe', [ValType.I32], ValType.V128);
  const body = relaxed
    ? fusedMultiplyAdd(true)(v128.load(local.get(0)), v128.load(local.get(0)), v128.load(local.get(0)))
    : f32x4.add(v128.load(local.get(0)), v128.load(local.get(0)));
  return encodeModule([{ builder: fn, body }], 1);
}

let detected: WasmFeatures | undefined;

export function wasmFeatures(): WasmFeatures {
  if (detected) return detected;
  const simd = !!wasmApi && wasmApi.validate(probe(false));
  let relaxedSimd = simd && wasmApi!.validate(probe(true));
  if (simd && !relaxedSimd) {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedSimd = wasmApi!.validate(probe(true));
  }
  detected = { simd, relaxedSimd };
  return detected;
}

function kernelFunctions(relaxed: boolean): ModuleFunction[] {
  return [gemmFunction(relaxed), gemmFunction(relaxed, 'bf16'), ...attentionFunctions(relaxed), ...normFunctions(), elementwiseFunction(), toHalfFunction()];
}

/** Compiles the kernels, with relaxed-SIMD FMA when asked and available; needs WebAssembly SIMD. */
export function compileKernels(fma: boolean): WasmModule {
  const features = wasmFeatures();
  if (!features.simd) throw new Error('WebAssembly SIMD is not available in this JavaScript engine');
  return new wasmApi!.Module(encodeModule(kernelFunctions(fma && features.relaxedSimd), MAX_PAGES));
}
