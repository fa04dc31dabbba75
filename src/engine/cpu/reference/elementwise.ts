/**
 * Elementwise ops: a + b, x · factor, cap · tanh(x / cap), and act(gate) · up (SwiGLU and gated GELU).
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
import type { PointwiseActivation } from '../../backend';
import { activate } from './activation';

export function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

export function scale(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * factor;
  return out;
}

/** Gemma 2's soft-cap of one value: cap · tanh(x / cap), smooth and bounded by ±cap. */
export function softCapValue(x: number, cap: number): number {
  return cap * Math.tanh(x / cap);
}

export function softCap(x: Float32Array, cap: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = softCapValue(x[i], cap);
  return out;
}

export function gated(gate: Float32Array, up: Float32Array, activation: PointwiseActivation): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = activate(gate[i], activation) * up[i];
  return out;
}
