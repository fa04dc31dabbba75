/**
 * Running one computation on two backends and comparing the results: the WebGPU kernels against
 * their CPU twins (the reference kernels). Also deterministic test data, including 16-bit weights.
 */
import type { Backend, DeviceTensor } from '../../src/engine/backend';
import type { HostTensor } from '../../src/engine/tensor';
import { Tolerance, assertClose } from './compare';

export type Build = (backend: Backend) => DeviceTensor | DeviceTensor[];

/** Builds the same computation on both backends, reads every output and compares them in order. */
export async function assertTwins(name: string, reference: Backend, tested: Backend, build: Build, tolerance: Tolerance): Promise<void> {
  const expected = await readAll(reference, build);
  const actual = await readAll(tested, build);
  expected.forEach((e, i) => {
    // Masked scores are −∞ on both sides: they must match exactly, and are left out of |Δ|.
    const infinite = (j: number) => !Number.isFinite(e[j]);
    const differs = e.findIndex((value, j) => infinite(j) && !Object.is(value, actual[i][j]));
    if (differs >= 0) throw new Error(`${name} output ${i}: expected ${e[differs]} at flat index ${differs}, got ${actual[i][differs]}`);
    assertClose(actual[i], e, tolerance, `${name} output ${i}`, infinite);
  });
}

async function readAll(backend: Backend, build: Build): Promise<Float32Array[]> {
  const out = build(backend);
  const tensors = Array.isArray(out) ? out : [out];
  const values = await backend.read(tensors);
  backend.release(tensors);
  return values;
}

/** Deterministic values in [-scale, scale). */
export function random(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out[i] = (state / 2 ** 31 - 1) * scale;
  }
  return out;
}

export function f32(shape: number[], seed: number, scale = 1): HostTensor {
  return { dtype: 'F32', shape, data: random(shape.reduce((a, b) => a * b, 1), seed, scale) };
}

/** Finite F16 or BF16 weights of magnitude about 0.03 … 4, some of them zero or negative. */
export function half(dtype: 'F16' | 'BF16', shape: number[], seed: number): HostTensor {
  const values = random(shape.reduce((a, b) => a * b, 1), seed);
  const bits = new Uint16Array(values.length);
  values.forEach((v, i) => {
    const sign = v < 0 ? 0x8000 : 0;
    const mantissa = Math.floor(Math.abs(v) * 1e6) % 128;
    const exponent = 10 + (i % 7);
    bits[i] = i % 11 === 0 ? 0 : dtype === 'F16' ? sign | (exponent << 10) | (mantissa << 3) : sign | ((exponent + 112) << 7) | mantissa;
  });
  return { dtype, shape, data: bits };
}
