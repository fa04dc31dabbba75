/**
 * One thread per element: add, scale, soft-cap, gated activations (cpu/reference/elementwise.ts) and the
 * 16-bit → f32 conversion. Split by rows when a tensor does not fit one binding.
 */
import type { PointwiseActivation } from '../backend';
import { BYTES, GpuTensor } from './gpuTensor';
import { ELEMENT_GROUP, KernelProgram, grid, perElementMain, rowWindows, windowBinding } from './program';
import type { GpuRuntime } from './runtime';
import { activationFunction, loaders, softCapFunction, storageType } from './wgsl';

const GROUP = ELEMENT_GROUP;

export function add(rt: GpuRuntime, a: GpuTensor, b: GpuTensor): GpuTensor {
  return pointwise(rt, 'add', [['a', a], ['b', b]], [], 'load_a(i) + load_b(i)');
}

export function scale(rt: GpuRuntime, x: GpuTensor, factor: number): GpuTensor {
  return pointwise(rt, 'scale', [['x', x]], [['factor', factor]], 'load_x(i) * u.factor');
}

export function softCap(rt: GpuRuntime, x: GpuTensor, cap: number): GpuTensor {
  return pointwise(rt, 'softCap', [['x', x]], [['cap', cap]], 'softCap(load_x(i))', softCapFunction('f32', 'u.cap'));
}

export function gated(rt: GpuRuntime, gate: GpuTensor, up: GpuTensor, activation: PointwiseActivation): GpuTensor {
  return pointwise(rt, `gated:${activation}`, [['gate', gate], ['up', up]], [], 'activate(load_gate(i)) * load_up(i)', activationFunction(activation));
}

/** 16-bit storage → f32 (for the kernels that only read f32, and for readback). */
export function toF32(rt: GpuRuntime, x: GpuTensor): GpuTensor {
  return pointwise(rt, 'convert', [['x', x]], [], 'load_x(i)');
}


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
    body: () => perElementMain(`
  out[i] = ${expression};`, `${prelude}\n${inputs.map(([n, t]) => loaders(n, t.dtype, false)).join('\n')}`),
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
