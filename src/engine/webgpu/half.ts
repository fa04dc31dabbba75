/** f32 → float16 bits on the GPU (cpu/reference/half.ts), so probabilities are read back at half the bytes. */
import type { GpuTensor } from './gpuTensor';
import { ELEMENT_GROUP, KernelProgram, grid, perElementMain, rowWindows, windowBinding } from './program';
import type { GpuRuntime } from './runtime';

const GROUP = ELEMENT_GROUP;

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
  body: () => perElementMain(`
  if (2u * i >= u.count) { return; }
  let second = select(0.0, x[min(2u * i + 1u, u.count - 1u)], 2u * i + 1u < u.count);
  out[i] = pack2x16float(vec2<f32>(x[2u * i], second));`),
};
