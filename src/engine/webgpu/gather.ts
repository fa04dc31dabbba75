/**
 * Embedding gather (cpu/reference/gather.ts): out[t, :] = table[ids[t], :], reading f32, f16 or bf16
 * tables. A table larger than one binding is split by rows; each window's dispatch fills the rows
 * whose id falls inside it.
 */
import { BYTES, GpuTensor } from './gpuTensor';
import { ELEMENT_GROUP, KernelProgram, grid, perElementMain, rowWindows, wholeBinding, windowBinding } from './program';
import type { GpuRuntime } from './runtime';
import { loaders, storageType } from './wgsl';

const GROUP = ELEMENT_GROUP;

export function gather(rt: GpuRuntime, table: GpuTensor, ids: Int32Array): GpuTensor {
  if (table.shape.length !== 2 || !table.dense) throw new Error(`gather: the table must be a dense 2-D tensor, not [${table.shape}]`);
  const [vocab, dim] = table.shape;
  const bad = ids.findIndex((id) => id < 0 || id >= vocab);
  if (bad >= 0) throw new Error(`gather: id ${ids[bad]} at position ${bad} is outside the table's ${vocab} rows`);
  // The ids travel as u32 words; the tensor's dtype only sizes the buffer.
  const idBuffer = rt.upload(Uint32Array.from(ids), [ids.length], 'f32', 'gather ids');
  const out = rt.allocate([ids.length, dim], 'f32', 'gather');
  const program = gatherProgram(table.dtype);
  const limits = rt.gpu.limits;
  const count = ids.length * dim;
  for (const w of rowWindows(vocab, [dim * BYTES[table.dtype]], limits)) {
    rt.record({
      program,
      uniformValues: [count, dim, w.start, w.count],
      buffers: [wholeBinding(idBuffer, limits), windowBinding(table, w), wholeBinding(out, limits)],
      workgroups: grid(Math.ceil(count / GROUP), limits.maxComputeWorkgroupsPerDimension),
    });
  }
  idBuffer.release();
  return out;
}

function gatherProgram(dtype: GpuTensor['dtype']): KernelProgram {
  return {
    label: 'gather',
    cacheKey: `gather:${dtype}`,
    uniforms: [['count', 'u32'], ['dim', 'u32'], ['firstRow', 'u32'], ['windowRows', 'u32']],
    bindings: [{ name: 'ids', type: 'array<u32>' }, { name: 'table', type: storageType(dtype, false) }, { name: 'out', type: 'array<f32>', write: true }],
    body: () => perElementMain(`
  let id = ids[i / u.dim];
  if (id < u.firstRow || id >= u.firstRow + u.windowRows) { return; }
  out[i] = load_table((id - u.firstRow) * u.dim + i % u.dim);`, loaders('table', dtype, false)),
  };
}
