/// <reference types="@webgpu/types" />
/**
 * How a kernel describes itself: its bindings and uniforms (from which the WGSL header is generated,
 * so the shader and the bind group layout cannot disagree), a cache key holding only compile-time
 * choices (dtype, vector width, tile size, optional inputs), and one recorded dispatch per call.
 * Shapes always travel in uniforms. Also: splitting work so every binding fits the device's
 * maxStorageBufferBindingSize (128 MiB on many adapters).
 */
import { EngineError } from '../errors';
import { BYTES, GpuTensor } from './gpuTensor';

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface BindingSpec {
  readonly name: string;
  /** WGSL type of the storage variable, e.g. `array<f32>` or `array<vec4<f32>>`. */
  readonly type: string;
  readonly write?: boolean;
}

export interface KernelProgram {
  /** Names the pipeline and its GPU objects. */
  readonly label: string;
  /** Compile-time choices only; equal keys must produce equal shaders. */
  readonly cacheKey: string;
  readonly uniforms: readonly (readonly [string, ScalarType])[];
  readonly bindings: readonly BindingSpec[];
  /** The shader after the generated header; built only on a pipeline-cache miss. */
  readonly body: () => string;
}

export interface Dispatch {
  readonly program: KernelProgram;
  /** One value per uniform, in declaration order. */
  readonly uniformValues: readonly number[];
  /** One per binding, in declaration order. */
  readonly buffers: readonly GPUBufferBinding[];
  readonly workgroups: readonly [number, number, number];
}

export function shaderSource(program: KernelProgram): string {
  const fields = program.uniforms.map(([name, type]) => `  ${name}: ${type},`).join('\n');
  const bindings = program.bindings.map((b, i) =>
    `@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: ${b.type};`).join('\n');
  return `struct Uniforms {\n${fields}\n};\n@group(0) @binding(0) var<uniform> u: Uniforms;\n${bindings}\n${program.body()}`;
}

/** Bytes of the uniform block, padded for the uniform address space. */
export function uniformBytes(program: KernelProgram): number {
  return alignUp(program.uniforms.length * 4, 16);
}

export function packUniforms(program: KernelProgram, values: readonly number[], target: DataView, offset: number): void {
  if (values.length !== program.uniforms.length) throw new Error(`${program.label}: ${values.length} uniform values for ${program.uniforms.length} fields`);
  program.uniforms.forEach(([, type], i) => {
    const at = offset + i * 4;
    if (type === 'f32') target.setFloat32(at, values[i], true);
    else if (type === 'i32') target.setInt32(at, values[i], true);
    else target.setUint32(at, values[i], true);
  });
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * Workgroup counts for `count` workgroups, folded into a second dimension beyond the per-dimension
 * limit. Shaders recover the flat index with `flatWorkgroup` and must ignore indices ≥ count.
 */
export function grid(count: number, maxPerDimension: number): [number, number, number] {
  const x = Math.max(1, Math.min(count, maxPerDimension));
  return [x, Math.max(1, Math.ceil(count / x)), 1];
}

export const FLAT_WORKGROUP = /* wgsl */ `
fn flatWorkgroup(wid: vec3<u32>, groups: vec3<u32>) -> u32 { return wid.x + wid.y * groups.x; }`;

/** Threads per workgroup of the kernels that give each output element one thread. */
export const ELEMENT_GROUP = 256;

/**
 * The entry point of a kernel with one thread per output element (dispatched over a 2-D grid of
 * ELEMENT_GROUP-thread workgroups): `i` is the element, threads past `u.count` return, then `body`.
 * `helpers` is WGSL placed before main (loaders, functions).
 */
export function perElementMain(body: string, helpers = ''): string {
  return /* wgsl */ `
${FLAT_WORKGROUP}
${helpers}
@compute @workgroup_size(${ELEMENT_GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroup(wid, groups) * ${ELEMENT_GROUP}u + lid;
  if (i >= u.count) { return; }
${body}
}`;
}

/** Device limits the splitting depends on. */
export interface BindingLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly minStorageBufferOffsetAlignment: number;
}

export interface RowWindow {
  readonly start: number;
  readonly count: number;
}

/**
 * Splits rows [0, rows) into windows such that, for every tensor bound by rows (`rowBytes` each), a
 * window's binding fits the limit and starts at an aligned byte offset. One window when all fits.
 */
export function rowWindows(rows: number, rowBytes: readonly number[], limits: BindingLimits): RowWindow[] {
  const alignment = limits.minStorageBufferOffsetAlignment;
  const widest = Math.max(...rowBytes);
  if (rows * widest <= limits.maxStorageBufferBindingSize) return [{ start: 0, count: rows }];
  // A window must start at a multiple of `step` rows for every tensor's offset to be aligned.
  const step = Math.max(...rowBytes.map((b) => alignment / gcd(alignment, b)));
  const perWindow = Math.floor(limits.maxStorageBufferBindingSize / widest / step) * step;
  if (perWindow === 0) {
    throw new EngineError('TOO_MANY_TOKENS', `One row of ${widest} bytes is too wide for this GPU's storage binding limit (${limits.maxStorageBufferBindingSize} bytes).`, { remedies: ['use-cpu', 'shorter-input'] });
  }
  const windows: RowWindow[] = [];
  for (let start = 0; start < rows; start += perWindow) windows.push({ start, count: Math.min(perWindow, rows - start) });
  return windows;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Binds rows [window.start, window.start + count) of a dense tensor. */
export function windowBinding(t: GpuTensor, window: RowWindow): GPUBufferBinding {
  if (!t.dense) throw new Error('windowBinding needs a dense tensor');
  const rowBytes = t.cols * BYTES[t.dtype];
  const offset = window.start * rowBytes;
  return { buffer: t.buffer, offset, size: Math.min(alignUp(window.count * rowBytes, 16), t.buffer.size - offset) };
}

/** Binds all of a tensor's extent (for views: from element 0 to the end of its last row). */
export function wholeBinding(t: GpuTensor, limits: BindingLimits): GPUBufferBinding {
  const elements = t.offset + (t.rows - 1) * t.rowStride + t.cols;
  const size = Math.min(alignUp(elements * BYTES[t.dtype], 16), t.buffer.size);
  if (size > limits.maxStorageBufferBindingSize) {
    throw new EngineError('TOO_MANY_TOKENS', `A ${t.shape.join('×')} tensor (${size} bytes) exceeds this GPU's storage binding limit (${limits.maxStorageBufferBindingSize} bytes).`, { remedies: ['shorter-input', 'use-cpu'] });
  }
  return { buffer: t.buffer, offset: 0, size };
}
