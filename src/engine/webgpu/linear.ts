/**
 * linear: out[m, n] = act(Σ_k x[m, k] · w[n, k] + bias[n]) + residual[m, n] (cpu/reference/linear.ts).
 * 64×64 output tiles per 256-thread workgroup (16×64 per 64 threads for inputs of at most 32 rows,
 * such as one generated token), each thread a 4×4 register block (16 dot products of vec4s per 4
 * values of k); x and w tiles are staged through workgroup memory 16 values of k at a time. With k a
 * multiple of 4, tiles load as vec4 (f32) or as packed pairs of 16-bit weights; otherwise element by
 * element with bounds checks.
 * Sizes that are not multiples of the tile are guarded at load (zeros) and at store.
 * Weights too large for one binding (GPT-2's 50257×768 f32 embedding is 154 MB) are split by rows,
 * activations by rows, one dispatch per pair of windows.
 */
import type { PointwiseActivation } from '../backend';
import { BYTES, GpuTensor } from './gpuTensor';
import { KernelProgram, rowWindows, wholeBinding, windowBinding } from './program';
import type { GpuRuntime } from './runtime';
import { ACTIVATION_CODES, ANY_ACTIVATION, loaders, storageType } from './wgsl';

export interface MatmulInputs {
  /** [rows, in], f32, dense. */
  readonly x: GpuTensor;
  /** [out, in], f32/f16/bf16, dense. */
  readonly weight: GpuTensor;
  readonly bias?: GpuTensor;
  readonly residual?: GpuTensor;
  readonly activation: PointwiseActivation;
}

/** Output columns per workgroup; rows are 64, or 16 for short inputs (one token while generating). */
const TILE_COLUMNS = 64;
const SHORT_INPUT_ROWS = 32;

export function matmul(rt: GpuRuntime, { x, weight, bias, residual, activation }: MatmulInputs): GpuTensor {
  const [rows, inDim] = x.shape;
  const [outDim, weightIn] = weight.shape;
  if (x.shape.length !== 2 || weight.shape.length !== 2 || weightIn !== inDim) {
    throw new Error(`linear: x [${x.shape}] does not match the weight [${weight.shape}]`);
  }
  if (bias && bias.shape.join() !== `${outDim}`) throw new Error(`linear: bias [${bias.shape}] for ${outDim} outputs`);
  if (residual && residual.shape.join() !== `${rows},${outDim}`) throw new Error(`linear: residual [${residual.shape}] for output [${rows}, ${outDim}]`);

  const vec4 = inDim % 4 === 0;
  const tileRows = rows <= SHORT_INPUT_ROWS ? 16 : 64;
  const program = matmulProgram(weight.dtype, vec4, tileRows);
  const out = rt.allocate([rows, outDim], 'f32', 'linear out');
  const limits = rt.gpu.limits;
  const rowBytes = [inDim * 4, outDim * 4];
  for (const w of rowWindows(outDim, [inDim * BYTES[weight.dtype]], limits)) {
    for (const m of rowWindows(rows, rowBytes, limits)) {
      rt.record({
        program,
        uniformValues: [m.count, outDim, inDim, w.start, w.count, ACTIVATION_CODES[activation], bias ? 1 : 0, residual ? 1 : 0],
        buffers: [
          windowBinding(x, m), windowBinding(weight, w),
          bias ? wholeBinding(bias, limits) : rt.placeholder,
          residual ? windowBinding(residual, m) : rt.placeholder,
          windowBinding(out, m),
        ],
        workgroups: [Math.ceil(w.count / TILE_COLUMNS), Math.ceil(m.count / tileRows), 1],
      });
    }
  }
  return out;
}

function matmulProgram(dtype: GpuTensor['dtype'], vec4: boolean, tileRows: number): KernelProgram {
  const load = (name: string, rowsName: string) => vec4
    ? `fn tile_${name}(row: u32, k: u32) -> vec4<f32> {
  if (row < ${rowsName} && k < u.K) { return load4_${name}((row * u.K + k) / 4u); }
  return vec4<f32>();
}`
    : `fn tile_${name}(row: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>();
  for (var c = 0u; c < 4u; c++) {
    if (row < ${rowsName} && k + c < u.K) { v[c] = load_${name}(row * u.K + k + c); }
  }
  return v;
}`;
  const threads = (tileRows / 4) * 16;
  return {
    label: 'linear',
    cacheKey: `linear:${dtype}:${vec4 ? 'vec4' : 'scalar'}:${tileRows}`,
    // Activation, bias and residual are uniforms (an absent input binds a placeholder), not
    // compile-time choices: one pipeline instead of twenty, each of which costs a second or more of
    // JIT on a software adapter's cold shader cache. A uniform branch per output costs nothing.
    uniforms: [
      ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['nBase', 'u32'], ['nCount', 'u32'],
      ['activation', 'u32'], ['hasBias', 'u32'], ['hasResidual', 'u32'],
    ],
    bindings: [
      { name: 'x', type: storageType('f32', vec4) },
      { name: 'w', type: storageType(dtype, vec4) },
      { name: 'bias', type: 'array<f32>' },
      { name: 'residual', type: 'array<f32>' },
      { name: 'out', type: 'array<f32>', write: true },
    ],
    body: () => `
const TK = 16u;
const THREADS = ${threads}u;
// Tiles as [row][k / 4]: element i is the vec4 of k at row i / 4.
var<workgroup> xTile: array<vec4<f32>, ${tileRows * 4}>;
var<workgroup> wTile: array<vec4<f32>, 256>;
${ANY_ACTIVATION}
${loaders('x', 'f32', vec4)}
${loaders('w', dtype, vec4)}
${load('x', 'u.M')}
${load('w', 'u.nCount')}

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let m0 = wid.y * ${tileRows}u;
  let n0 = wid.x * 64u;
  // This thread's 4×4 block: rows ty·4 + i, columns tx·4 + j of the tile.
  let ty = t / 16u;
  let tx = t % 16u;
  ${unroll4((i) => `var acc${i} = vec4<f32>();`)}
  for (var k0 = 0u; k0 < u.K; k0 += TK) {
    for (var i = t; i < ${tileRows * 4}u; i += THREADS) { xTile[i] = tile_x(m0 + i / 4u, k0 + (i % 4u) * 4u); }
    for (var i = t; i < 256u; i += THREADS) { wTile[i] = tile_w(n0 + i / 4u, k0 + (i % 4u) * 4u); }
    workgroupBarrier();
    for (var q = 0u; q < 4u; q++) {
      ${unroll4((i) => `let x${i} = xTile[(ty * 4u + ${i}u) * 4u + q];`)}
      ${unroll4((j) => `let w${j} = wTile[(tx * 4u + ${j}u) * 4u + q];`)}
      ${unroll4((i) => `acc${i} += vec4<f32>(dot(x${i}, w0), dot(x${i}, w1), dot(x${i}, w2), dot(x${i}, w3));`)}
    }
    workgroupBarrier();
  }
  ${unroll4((i) => `let row${i} = m0 + ty * 4u + ${i}u;`)}
  ${unroll4((j) => `let column${j} = n0 + tx * 4u + ${j}u;`)}
  ${unroll4((i) => unroll4((j) => `if (row${i} < u.M && column${j} < u.nCount) { store(row${i}, column${j}, acc${i}.${LANES[j]}); }`))}
}

fn store(row: u32, column: u32, sum: f32) {
  let n = u.nBase + column;
  let at = row * u.N + n;
  var value = sum;
  if (u.hasBias != 0u) { value += bias[n]; }
  value = activateAny(value, u.activation);
  if (u.hasResidual != 0u) { value += residual[at]; }
  out[at] = value;
}`,
  };
}

const LANES = ['x', 'y', 'z', 'w'];

/** Four statements, one per index, unrolled in the source: static indices keep registers in registers. */
function unroll4(statement: (index: number) => string): string {
  return [0, 1, 2, 3].map(statement).join('\n  ');
}
