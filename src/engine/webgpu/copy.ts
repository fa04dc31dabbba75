/** Row copies: a strided or offset view made dense, and two tensors stacked (a growing key/value cache). */
import type { GpuTensor } from './gpuTensor';
import { ELEMENT_GROUP, KernelProgram, grid, perElementMain, wholeBinding } from './program';
import type { GpuRuntime } from './runtime';

const GROUP = ELEMENT_GROUP;

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
  body: () => perElementMain(`
  out[u.outOffset + i] = x[u.offset + (i / u.cols) * u.rowStride + i % u.cols];`),
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
