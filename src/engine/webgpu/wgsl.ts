/**
 * WGSL snippets shared by kernels: the activations of cpu/reference/activation.ts (same erf approximation, overflow-
 * safe tanh) and loaders that read f32, f16 or bf16 storage as f32.
 */
import type { PointwiseActivation } from '../backend';
import type { GpuDType } from './gpuTensor';

/** cpu/reference/activation.ts `erf`: Numerical Recipes' Chebyshev fit of erfc, absolute error below 1.2e-7. */
const ERF = `fn erf(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let erfc = t * exp(poly);
  return select(erfc - 1.0, 1.0 - erfc, x >= 0.0);
}`;

/** Each activation of cpu/reference/activation.ts `activate` as a WGSL expression in x. */
const ACTIVATIONS: Record<PointwiseActivation, string> = {
  none: 'x',
  relu: 'max(x, 0.0)',
  silu: 'x / (1.0 + exp(-x))',
  // tanh(y) = 1 - 2 / (exp(2y) + 1) stays finite where exp overflows; built-in tanh may not.
  gelu_tanh: '0.5 * x * (2.0 - 2.0 / (exp(1.5957691216057308 * (x + 0.044715 * x * x * x)) + 1.0))',
  gelu_erf: '0.5 * x * (1.0 + erf(x * 0.7071067811865476))',
};

/** `fn activate(x: f32) -> f32` for one activation. */
export function activationFunction(activation: PointwiseActivation): string {
  return `${activation === 'gelu_erf' ? ERF : ''}
fn activate(x: f32) -> f32 { return ${ACTIVATIONS[activation]}; }`;
}

/**
 * `fn softCap(s: type) -> type`: cap · tanh(s / cap) (cpu/reference/elementwise.ts `softCapValue`) as
 * sign(s) · cap · (1 − t) / (1 + t) with t = e^{−2|s|/cap}, finite for every s. `cap` is a WGSL expression.
 */
export function softCapFunction(type: 'f32' | 'vec4<f32>', cap: string): string {
  return `fn softCap(s: ${type}) -> ${type} {
  let t = exp(abs(s) * (-2.0 / ${cap}));
  return sign(s) * ${cap} * (1.0 - t) / (1.0 + t);
}`;
}

/** Codes for `ANY_ACTIVATION`: a uniform picks the activation, so one pipeline serves them all. */
export const ACTIVATION_CODES: Record<PointwiseActivation, number> = { none: 0, relu: 1, silu: 2, gelu_tanh: 3, gelu_erf: 4 };

/** `fn activateAny(x: f32, code: u32) -> f32`, code from ACTIVATION_CODES. */
export const ANY_ACTIVATION = `${ERF}
fn activateAny(x: f32, code: u32) -> f32 {
  switch code {
${(Object.keys(ACTIVATION_CODES) as PointwiseActivation[]).map((a) => `    case ${ACTIVATION_CODES[a]}u: { return ${ACTIVATIONS[a]}; }`).join('\n')}
    default: { return x; }
  }
}`;

/** WGSL element type of a binding holding `dtype` (16-bit values are packed two per u32). */
export function storageType(dtype: GpuDType, vec4: boolean): string {
  if (dtype === 'f32') return vec4 ? 'array<vec4<f32>>' : 'array<f32>';
  return vec4 ? 'array<vec2<u32>>' : 'array<u32>';
}

/**
 * `fn load_<name>(i: u32) -> f32` reading element i of binding `name`, and with vec4,
 * `fn load4_<name>(i: u32) -> vec4<f32>` reading elements 4i … 4i+3.
 */
export function loaders(name: string, dtype: GpuDType, vec4: boolean): string {
  const scalar = {
    f32: `fn load_${name}(i: u32) -> f32 { return ${name}[i]; }`,
    f16: `fn load_${name}(i: u32) -> f32 { return unpack2x16float(${name}[i >> 1u])[i & 1u]; }`,
    bf16: `fn load_${name}(i: u32) -> f32 { return bitcast<f32>(select(${name}[i >> 1u] << 16u, ${name}[i >> 1u] & 0xffff0000u, (i & 1u) == 1u)); }`,
  }[dtype];
  if (!vec4) return scalar;
  return {
    f32: `fn load4_${name}(i: u32) -> vec4<f32> { return ${name}[i]; }`,
    f16: `fn load4_${name}(i: u32) -> vec4<f32> { let w = ${name}[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }`,
    bf16: `fn load4_${name}(i: u32) -> vec4<f32> {
  let w = ${name}[i];
  return bitcast<vec4<f32>>(vec4<u32>(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u));
}`,
  }[dtype];
}
