/**
 * LayerNorm and RMSNorm (cpu/reference/norm.ts): one workgroup per row, sums reduced in
 * workgroup memory. LayerNorm takes the mean first and then the mean squared deviation, as the
 * reference does, rather than E[x²] − E[x]², which cancels badly.
 */
import { GpuTensor } from './gpuTensor';
import { FLAT_WORKGROUP, KernelProgram, grid, rowWindows, wholeBinding, windowBinding } from './program';
import type { GpuRuntime } from './runtime';

const GROUP = 128;

export function layerNorm(rt: GpuRuntime, x: GpuTensor, weight: GpuTensor, bias: GpuTensor, eps: number): GpuTensor {
  return norm(rt, 'layerNorm', x, [weight, bias], eps);
}

export function rmsNorm(rt: GpuRuntime, x: GpuTensor, weight: GpuTensor, eps: number): GpuTensor {
  return norm(rt, 'rmsNorm', x, [weight], eps);
}

function norm(rt: GpuRuntime, kind: 'layerNorm' | 'rmsNorm', x: GpuTensor, params: readonly GpuTensor[], eps: number): GpuTensor {
  const dim = x.cols;
  for (const p of params) {
    if (p.shape.join() !== `${dim}`) throw new Error(`${kind}: parameter [${p.shape}] for rows of ${dim}`);
  }
  const program = kind === 'layerNorm' ? LAYER_NORM : RMS_NORM;
  const out = rt.allocate(x.shape, 'f32', kind);
  const limits = rt.gpu.limits;
  for (const w of rowWindows(x.rows, [dim * 4], limits)) {
    rt.record({
      program,
      uniformValues: [w.count, dim, eps],
      buffers: [windowBinding(x, w), ...params.map((p) => wholeBinding(p, limits)), windowBinding(out, w)],
      workgroups: grid(w.count, limits.maxComputeWorkgroupsPerDimension),
    });
  }
  return out;
}

const PRELUDE = `
${FLAT_WORKGROUP}
const G = ${GROUP}u;
var<workgroup> partial: array<f32, G>;

fn workgroupSum(value: f32, lid: u32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = G / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}`;

const ENTRY = `@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = flatWorkgroup(wid, groups);
  if (row >= u.rows) { return; }
  let base = row * u.dim;`;

const UNIFORMS = [['rows', 'u32'], ['dim', 'u32'], ['eps', 'f32']] as const;

const LAYER_NORM: KernelProgram = {
  label: 'layerNorm',
  cacheKey: 'layerNorm',
  uniforms: UNIFORMS,
  bindings: [{ name: 'x', type: 'array<f32>' }, { name: 'weight', type: 'array<f32>' }, { name: 'bias', type: 'array<f32>' }, { name: 'out', type: 'array<f32>', write: true }],
  body: () => `${PRELUDE}
${ENTRY}
  var sum = 0.0;
  for (var i = lid; i < u.dim; i += G) { sum += x[base + i]; }
  let mean = workgroupSum(sum, lid) / f32(u.dim);
  var squares = 0.0;
  for (var i = lid; i < u.dim; i += G) { let d = x[base + i] - mean; squares += d * d; }
  let inv = 1.0 / sqrt(workgroupSum(squares, lid) / f32(u.dim) + u.eps);
  for (var i = lid; i < u.dim; i += G) { out[base + i] = (x[base + i] - mean) * inv * weight[i] + bias[i]; }
}`,
};

const RMS_NORM: KernelProgram = {
  label: 'rmsNorm',
  cacheKey: 'rmsNorm',
  uniforms: UNIFORMS,
  bindings: [{ name: 'x', type: 'array<f32>' }, { name: 'weight', type: 'array<f32>' }, { name: 'out', type: 'array<f32>', write: true }],
  body: () => `${PRELUDE}
${ENTRY}
  var squares = 0.0;
  for (var i = lid; i < u.dim; i += G) { squares += x[base + i] * x[base + i]; }
  let inv = 1.0 / sqrt(workgroupSum(squares, lid) / f32(u.dim) + u.eps);
  for (var i = lid; i < u.dim; i += G) { out[base + i] = (x[base + i] * inv) * weight[i]; }
}`,
};
