/**
 * valueNorms (cpu/reference/valueNorms.ts): ‖W_O,h · v_j‖ per head and key. One workgroup per (head,
 * key): its threads share the output projection's rows, each forming W_O,h · v_j for its rows and
 * summing the squares, which the workgroup then adds up. The projection stays in its f32, f16 or bf16
 * storage.
 */
import type { HeadLayout } from '../backend';
import { GpuTensor } from './gpuTensor';
import { FLAT_WORKGROUP, KernelProgram, grid, wholeBinding } from './program';
import type { GpuRuntime } from './runtime';
import { loaders, storageType } from './wgsl';

const GROUP = 64;

/** v: dense f32 [keys, kvHeads · headDim]; o: a dense weight [out, heads · headDim]. */
export function valueNorms(rt: GpuRuntime, v: GpuTensor, o: GpuTensor, heads: HeadLayout): GpuTensor {
  if (!v.dense || !o.dense) throw new Error('valueNorms: v and the output projection must be dense');
  const keys = v.rows;
  const out = rt.allocate([heads.numHeads, keys], 'f32', 'valueNorms');
  const limits = rt.gpu.limits;
  rt.record({
    program: valueNormsProgram(o.dtype),
    uniformValues: [heads.numHeads, keys, heads.numHeads / heads.numKvHeads, heads.headDim, o.rows, o.cols, v.cols],
    buffers: [wholeBinding(v, limits), wholeBinding(o, limits), wholeBinding(out, limits)],
    workgroups: grid(heads.numHeads * keys, limits.maxComputeWorkgroupsPerDimension),
  });
  return out;
}

function valueNormsProgram(dtype: GpuTensor['dtype']): KernelProgram {
  return {
    label: 'valueNorms',
    cacheKey: `valueNorms:${dtype}`,
    uniforms: [['heads', 'u32'], ['keys', 'u32'], ['group', 'u32'], ['headDim', 'u32'], ['outDim', 'u32'], ['oCols', 'u32'], ['vCols', 'u32']],
    bindings: [{ name: 'v', type: 'array<f32>' }, { name: 'o', type: storageType(dtype, false) }, { name: 'out', type: 'array<f32>', write: true }],
    body: () => `
${FLAT_WORKGROUP}
${loaders('o', dtype, false)}
const G = ${GROUP}u;
var<workgroup> partial: array<f32, G>;

@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let item = flatWorkgroup(wid, groups);
  if (item >= u.heads * u.keys) { return; }
  let h = item / u.keys;
  let value = (item % u.keys) * u.vCols + (h / u.group) * u.headDim;
  var squares = 0.0;
  for (var n = lid; n < u.outDim; n += G) {
    var dot = 0.0;
    for (var d = 0u; d < u.headDim; d++) { dot += load_o(n * u.oCols + h * u.headDim + d) * v[value + d]; }
    squares += dot * dot;
  }
  partial[lid] = squares;
  workgroupBarrier();
  for (var stride = G / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[item] = sqrt(partial[0]); }
}`,
  };
}
