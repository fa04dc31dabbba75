/**
 * One thread per element: add, scale, gated activations (kernels.ts `add`, `scale`, `gated`), the
 * 16-bit ↔ f32 conversions, and row copies (a strided view made dense, two tensors stacked). Split
 * by rows when a tensor does not fit one binding.
 */
import type { PointwiseActivation } from '../backend';
import { BYTES, GpuTensor } from './gpuTensor';
import { FLAT_WORKGROUP, KernelProgram, grid, rowWindows, wholeBinding, windowBinding } from './program';
import type { GpuRuntime } from './runtime';
import { activationFunction, loaders, storageType } from './wgsl';

const GROUP = 256;

export function add(rt: GpuRuntime, a: GpuTensor, b: GpuTensor): GpuTensor {
  return pointwise(rt, 'add', [['a', a], ['b', b]], [], 'load_a(i) + load_b(i)');
}

export function scale(rt: GpuRuntime, x: GpuTensor, factor: number): GpuTensor {
  return pointwise(rt, 'scale', [['x', x]], [['factor', factor]], 'load_x(i) * u.factor');
}

export function gated(rt: GpuRuntime, gate: GpuTensor, up: GpuTensor, activation: PointwiseActivation): GpuTensor {
  return pointwise(rt, `gated:${activation}`, [['gate', gate], ['up', up]], [], 'activate(load_gate(i)) * load_up(i)', activationFunction(activation));
}

/** 16-bit storage → f32 (for the kernels that only read f32, and for readback). */
export function toF32(rt: GpuRuntime, x: GpuTensor): GpuTensor {
  return pointwise(rt, 'convert', [['x', x]], [], 'load_x(i)');
}

/** f32 → float16 bits, two per u32 word (for reading probabilities back at half the bytes). */
export function toHalf(rt: GpuRuntime, x: GpuTensor): GpuTensor {
  if (!x.dense || x.dtype !== 'f32') throw new Error('toHalf needs a dense f32 tensor');
  const out = rt.allocate(x.shape, 'f16', 'half');
  for (const w of rowWindows(x.rows, [x.cols * 4, x.cols * 2], rt.gpu.limits)) {
    // Windows start at aligned offsets, so only the last one can end in half a word.
    const pairs = Math.ceil((w.count * x.cols) / 2);
    rt.record({
      program: TO_HALF,
      uniformValues: [w.count * x.cols],
      buffers: [windowBinding(x, w), windowBinding(out, w)],
      workgroups: grid(Math.ceil(pairs / GROUP), rt.gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return out;
}

const TO_HALF: KernelProgram = {
  label: 'toHalf',
  cacheKey: 'toHalf',
  uniforms: [['count', 'u32']],
  bindings: [{ name: 'x', type: 'array<f32>' }, { name: 'out', type: 'array<u32>', write: true }],
  body: () => `
${FLAT_WORKGROUP}
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroup(wid, groups) * ${GROUP}u + lid;
  if (2u * i >= u.count) { return; }
  let second = select(0.0, x[min(2u * i + 1u, u.count - 1u)], 2u * i + 1u < u.count);
  out[i] = pack2x16float(vec2<f32>(x[2u * i], second));
}`,
};

function pointwise(
  rt: GpuRuntime, name: string, inputs: readonly (readonly [string, GpuTensor])[], floats: readonly (readonly [string, number])[],
  expression: string, prelude = '',
): GpuTensor {
  const shape = inputs[0][1].shape;
  for (const [input, t] of inputs) {
    if (!t.dense) throw new Error(`${name}: ${input} must be dense`);
    if (t.shape.join() !== shape.join()) throw new Error(`${name}: ${input} is [${t.shape}] but ${inputs[0][0]} is [${shape}]`);
  }
  const program: KernelProgram = {
    label: name.split(':')[0],
    cacheKey: `pointwise:${name}:${inputs.map(([, t]) => t.dtype).join(',')}`,
    uniforms: [['count', 'u32'], ...floats.map(([n]) => [n, 'f32'] as const)],
    bindings: [...inputs.map(([n, t]) => ({ name: n, type: storageType(t.dtype, false) })), { name: 'out', type: 'array<f32>', write: true }],
    body: () => `
${FLAT_WORKGROUP}
${prelude}
${inputs.map(([n, t]) => loaders(n, t.dtype, false)).join('\n')}
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroup(wid, groups) * ${GROUP}u + lid;
  if (i >= u.count) { return; }
  out[i] = ${expression};
}`,
  };
  const out = rt.allocate(shape, 'f32', name);
  const cols = out.cols;
  const rowBytes = [...inputs.map(([, t]) => cols * BYTES[t.dtype]), cols * 4];
  for (const w of rowWindows(out.rows, rowBytes, rt.gpu.limits)) {
    const count = w.count * cols;
    rt.record({
      program,
      uniformValues: [count, ...floats.map(([, v]) => v)],
      buffers: [...inputs.map(([, t]) => windowBinding(t, w)), windowBinding(out, w)],
      workgroups: grid(Math.ceil(count / GROUP), rt.gpu.limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return out;
}

/** A dense copy of a (strided or offset) f32 view. */
export function compact(rt: GpuRuntime, view: GpuTensor): GpuTensor {
  const out = rt.allocate(view.shape, 'f32', 'compact');
  copyRows(rt, view, out, 0);
  return out;
}

/** [a rows; b rows] (kernels: a key/value cache growing by one step); a and b may be views. */
export function concatRows(rt: GpuRuntime, a: GpuTensor, b: GpuTensor): GpuTensor {
  if (a.cols !== b.cols || a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error(`concatRows: [${a.shape}] and [${b.shape}] do not stack`);
  const out = rt.allocate([a.rows + b.rows, a.cols], 'f32', 'concatRows');
  copyRows(rt, a, out, 0);
  copyRows(rt, b, out, a.rows * a.cols);
  return out;
}

const COPY: KernelProgram = {
  label: 'copy',
  cacheKey: 'copy',
  uniforms: [['count', 'u32'], ['cols', 'u32'], ['offset', 'u32'], ['rowStride', 'u32'], ['outOffset', 'u32']],
  bindings: [{ name: 'x', type: 'array<f32>' }, { name: 'out', type: 'array<f32>', write: true }],
  body: () => `
${FLAT_WORKGROUP}
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroup(wid, groups) * ${GROUP}u + lid;
  if (i >= u.count) { return; }
  out[u.outOffset + i] = x[u.offset + (i / u.cols) * u.rowStride + i % u.cols];
}`,
};

/** Copies a view's rows, densely, into `out` starting at element `outOffset`. */
function copyRows(rt: GpuRuntime, view: GpuTensor, out: GpuTensor, outOffset: number): void {
  const count = view.rows * view.cols;
  rt.record({
    program: COPY,
    uniformValues: [count, view.cols, view.offset, view.rowStride, outOffset],
    buffers: [wholeBinding(view, rt.gpu.limits), wholeBinding(out, rt.gpu.limits)],
    workgroups: grid(Math.ceil(count / GROUP), rt.gpu.limits.maxComputeWorkgroupsPerDimension),
  });
}
