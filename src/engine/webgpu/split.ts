/**
 * split (cpu/reference/split.ts): parts without RoPE become views of the input (no
 * copy, no dispatch); all parts with RoPE are rotated by one dispatch into one buffer, part after
 * part, each part a dense view of it. The angles' cos/sin come from the host, computed exactly as the
 * reference does (float32 angle, float32 cos/sin): GPU sin/cos are only specified on [-π, π], and
 * positions reach thousands of radians. The table is the same for every layer, so it is kept. With
 * partial rotary only the first rotaryDims of each head rotate; the rest of the head is copied.
 */
import type { RopeSpec, SplitPart } from '../backend';
import { GpuTensor } from './gpuTensor';
import { ELEMENT_GROUP, KernelProgram, grid, perElementMain, wholeBinding } from './program';
import type { GpuRuntime } from './runtime';

const GROUP = ELEMENT_GROUP;
const MAX_ROPE_PARTS = 4;

export class RopeSplitter {
  private table?: { key: RopeSpec; rows: number; tensor: GpuTensor };

  constructor(private readonly rt: GpuRuntime) {}

  split(x: GpuTensor, parts: readonly SplitPart[], rope?: RopeSpec): GpuTensor[] {
    const total = parts.reduce((n, p) => n + p.width, 0);
    if (x.shape.length !== 2 || total !== x.cols) throw new Error(`split: parts of ${total} columns for x [${x.shape}]`);
    const ropeParts = parts.filter((p) => p.rope);
    if (ropeParts.length && !rope) throw new Error('split: a part asks for RoPE but no RopeSpec was given');
    if (ropeParts.length > MAX_ROPE_PARTS) throw new Error(`split: at most ${MAX_ROPE_PARTS} parts can take RoPE`);
    if (rope && ropeParts.some((p) => p.width % rope.headDim !== 0 || rope.rotaryDims % 2 !== 0 || rope.rotaryDims > rope.headDim)) {
      throw new Error(`split: RoPE parts must hold whole heads of ${rope.headDim}, rotating an even number of dims (${rope.rotaryDims})`);
    }
    const rotated = ropeParts.length ? this.rotate(x, parts, rope!) : undefined;
    let column = 0;
    let ropeIndex = 0;
    return parts.map((part) => {
      const out = part.rope ? rotated![ropeIndex++] : x.columns(column, part.width);
      column += part.width;
      return out;
    });
  }

  /** One dispatch writing every RoPE part into one buffer; returns a view per part. */
  private rotate(x: GpuTensor, parts: readonly SplitPart[], rope: RopeSpec): GpuTensor[] {
    const { rt } = this;
    const rows = x.rows;
    const sources: number[] = [];
    const widths: number[] = [];
    let column = 0;
    for (const p of parts) {
      if (p.rope) {
        sources.push(column);
        widths.push(p.width);
      }
      column += p.width;
    }
    const ropeWidth = widths.reduce((a, b) => a + b, 0);
    const out = rt.allocate([rows, ropeWidth], 'f32', 'rope');
    const ends: number[] = [];
    widths.forEach((w, i) => ends.push((i ? ends[i - 1] : 0) + rows * w));
    const pad = (values: number[]) => [...values, ...Array(MAX_ROPE_PARTS - values.length).fill(0)];
    const limits = rt.gpu.limits;
    const count = rows * ropeWidth;
    const angles = this.angles(rope, rows);
    rt.record({
      program: ROPE,
      uniformValues: [count, x.offset, x.rowStride, rope.rotaryDims / 2, rope.headDim, angles.shape[1], ...pad(ends), ...pad(sources), ...pad(widths)],
      buffers: [wholeBinding(x, limits), wholeBinding(angles, limits), wholeBinding(out, limits)],
      workgroups: grid(Math.ceil(count / GROUP), limits.maxComputeWorkgroupsPerDimension),
    });
    const views = widths.map((w, i) => out.view([rows, w], i ? ends[i - 1] : 0, w));
    out.release();
    return views;
  }

  /** [2, rows, rotaryDims / 2]: cos then sin of each row's angles (cpu/reference/split.ts `applyRope`). */
  private angles(rope: RopeSpec, rows: number): GpuTensor {
    const cached = this.table;
    if (cached && cached.rows >= rows && cached.key.invFreq === rope.invFreq && cached.key.positionOffset === rope.positionOffset) {
      return cached.tensor;
    }
    const half = rope.rotaryDims / 2;
    const table = new Float32Array(2 * rows * half);
    for (let r = 0; r < rows; r++) {
      const position = rope.positionOffset + r;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(position * rope.invFreq[i]);
        table[r * half + i] = Math.cos(angle);
        table[(rows + r) * half + i] = Math.sin(angle);
      }
    }
    cached?.tensor.release();
    const tensor = this.rt.upload(table, [2, rows, half], 'f32', 'rope angles', 'cache');
    this.table = { key: rope, rows, tensor };
    return tensor;
  }
}

const ROPE: KernelProgram = {
  label: 'rope',
  cacheKey: 'rope',
  uniforms: [
    ['count', 'u32'], ['xOffset', 'u32'], ['xStride', 'u32'], ['half', 'u32'], ['headDim', 'u32'], ['tableRows', 'u32'],
    ...[0, 1, 2, 3].map((i) => [`end${i}`, 'u32'] as const),
    ...[0, 1, 2, 3].map((i) => [`source${i}`, 'u32'] as const),
    ...[0, 1, 2, 3].map((i) => [`width${i}`, 'u32'] as const),
  ],
  bindings: [{ name: 'x', type: 'array<f32>' }, { name: 'angles', type: 'array<f32>' }, { name: 'out', type: 'array<f32>', write: true }],
  body: () => perElementMain(`
  // Which part this output element belongs to: parts are stored one after another.
  let ends = vec4<u32>(u.end0, u.end1, u.end2, u.end3);
  let sources = vec4<u32>(u.source0, u.source1, u.source2, u.source3);
  let widths = vec4<u32>(u.width0, u.width1, u.width2, u.width3);
  var part = 0u;
  while (part < 3u && i >= ends[part]) { part++; }
  let start = select(0u, ends[max(part, 1u) - 1u], part > 0u);
  let local = i - start;
  let width = widths[part];
  let row = local / width;
  let column = local % width;
  let d = column % u.headDim;
  let head = u.xOffset + row * u.xStride + sources[part] + column - d;
  // Dims past the rotary ones (partial rotary) pass unchanged.
  if (d >= 2u * u.half) {
    out[i] = x[head + d];
    return;
  }
  let pair = d % u.half;
  let x1 = x[head + pair];
  let x2 = x[head + pair + u.half];
  let cosine = angles[row * u.half + pair];
  let sine = angles[(u.tableRows + row) * u.half + pair];
  out[i] = select(x2 * cosine + x1 * sine, x1 * cosine - x2 * sine, d < u.half);`),
};
