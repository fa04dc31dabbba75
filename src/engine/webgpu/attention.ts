/**
 * Attention that writes its probabilities (cpu/reference/attention.ts), one dispatch: a workgroup owns 4
 * query rows of one head and walks all their keys three times:
 *   1. scores  s = softCap((q·k)·scale) + bias, written to `probs` (and `scores`), running row maximum;
 *   2. e = exp(s − max) in place, row sums;
 *   3. p = e / sum written as the probabilities, and P·V accumulated from a tile of p staged in
 *      workgroup memory, so the context needs no second kernel.
 * Each thread re-reads only values it wrote itself between passes, so only the reductions and the
 * p tile need barriers. Masked keys get probability 0 and score −∞ (passed in as a uniform: WGSL has
 * no infinity literal); arithmetic never touches the causal mask's −∞, so fast-math compilers cannot
 * break it. A row whose keys are all masked (causally or by a bias of −∞) keeps zeros. A sliding window
 * gives each row a first visible key as well as a last; the passes start at the earliest of the four.
 * GQA: head h reads kv head ⌊h / (H / Hkv)⌋.
 * probs/scores/bias larger than one binding are split by rows of [H·Tq, Tk], one dispatch per window.
 */
import type { AttentionOptions } from '../backend';
import { gpuFailure } from './gpuDevice';
import { GpuTensor } from './gpuTensor';
import { KernelProgram, rowWindows, wholeBinding, windowBinding } from './program';
import type { GpuRuntime } from './runtime';
import { softCapFunction } from './wgsl';

const GROUP = 64;
const ROWS = 4;
const MAX_HEAD_DIM = 256;

export interface GpuAttention {
  readonly probs: GpuTensor;
  readonly context: GpuTensor;
  readonly scores?: GpuTensor;
}

export function attention(rt: GpuRuntime, q: GpuTensor, k: GpuTensor, v: GpuTensor, bias: GpuTensor | undefined, o: AttentionOptions): GpuAttention {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = o;
  const Tq = q.rows;
  const Tk = k.rows;
  if (H % Hkv !== 0) throw new Error(`attention: ${H} heads cannot share ${Hkv} key/value heads`);
  if (q.cols !== H * D || k.cols !== Hkv * D || v.cols !== Hkv * D || v.rows !== Tk) {
    throw new Error(`attention: q [${q.shape}], k [${k.shape}], v [${v.shape}] do not fit ${H}/${Hkv} heads of ${D}`);
  }
  if (bias && bias.shape.join() !== `${H},${Tq},${Tk}`) throw new Error(`attention: position bias [${bias.shape}] for [${H}, ${Tq}, ${Tk}]`);
  if (D > MAX_HEAD_DIM) throw gpuFailure(`the attention kernel supports head sizes up to ${MAX_HEAD_DIM}, not ${D}`);

  if (o.slidingWindow !== undefined && !(Number.isInteger(o.slidingWindow) && o.slidingWindow > 0)) throw new Error(`attention: sliding window ${o.slidingWindow}`);
  if (o.softCap !== undefined && !(o.softCap > 0)) throw new Error(`attention: soft-cap ${o.softCap}`);

  const headCapacity = Math.max(GROUP, 2 ** Math.ceil(Math.log2(D)));
  const program = attentionProgram(headCapacity, !!bias, o.keepScores);
  const limits = rt.gpu.limits;
  const probs = rt.allocate([H, Tq, Tk], 'f32', 'probs');
  const scores = o.keepScores ? rt.allocate([H, Tq, Tk], 'f32', 'scores') : undefined;
  const context = rt.allocate([Tq, H * D], 'f32', 'context');
  for (const w of rowWindows(H * Tq, [Tk * 4], limits)) {
    const firstHead = Math.floor(w.start / Tq);
    const endHead = Math.ceil((w.start + w.count) / Tq);
    rt.record({
      program,
      uniformValues: [
        Tq, Tk, H / Hkv, D, q.offset, q.rowStride, k.offset, k.rowStride, v.offset, v.rowStride,
        H * D, o.scale, o.causal ? 1 : 0, w.start, w.start + w.count, firstHead, -Infinity, o.softCap ?? 0, o.slidingWindow ?? 0,
      ],
      buffers: [
        wholeBinding(q, limits), wholeBinding(k, limits), wholeBinding(v, limits),
        ...(bias ? [windowBinding(bias, w)] : []),
        windowBinding(probs, w),
        ...(scores ? [windowBinding(scores, w)] : []),
        wholeBinding(context, limits),
      ],
      workgroups: [Math.ceil(Tq / ROWS), endHead - firstHead, 1],
    });
  }
  return { probs, context, scores };
}

/** The 4 rows of a workgroup are the 4 lanes of a vec4; per-row statements are unrolled here. */
const LANES = ['x', 'y', 'z', 'w'];
const eachRow = (statement: (lane: string) => string) => LANES.map(statement).join('\n    ');

function attentionProgram(headCapacity: number, hasBias: boolean, keepScores: boolean): KernelProgram {
  const perThread = headCapacity / GROUP;
  return {
    label: 'attention',
    // The soft-cap is a uniform (0: none), not a variant: each variant costs lavapipe seconds to compile.
    cacheKey: `attention:${headCapacity}:${hasBias ? 'bias' : ''}:${keepScores ? 'scores' : ''}`,
    uniforms: [
      ['Tq', 'u32'], ['Tk', 'u32'], ['group', 'u32'], ['D', 'u32'],
      ['qOffset', 'u32'], ['qStride', 'u32'], ['kOffset', 'u32'], ['kStride', 'u32'], ['vOffset', 'u32'], ['vStride', 'u32'],
      ['contextStride', 'u32'], ['scale', 'f32'], ['causal', 'u32'], ['rowStart', 'u32'], ['rowEnd', 'u32'], ['firstHead', 'u32'],
      // −∞ for masked scores: WGSL has no infinity literal and rejects one in a constant expression.
      ['maskedScore', 'f32'], ['softCap', 'f32'], ['window', 'u32'],
    ],
    bindings: [
      { name: 'q', type: 'array<f32>' }, { name: 'k', type: 'array<f32>' }, { name: 'v', type: 'array<f32>' },
      ...(hasBias ? [{ name: 'bias', type: 'array<f32>' }] : []),
      { name: 'probs', type: 'array<f32>', write: true },
      ...(keepScores ? [{ name: 'scores', type: 'array<f32>', write: true }] : []),
      { name: 'context', type: 'array<f32>', write: true },
    ],
    body: () => `
const G = ${GROUP}u;
const PER_THREAD = ${perThread}u;
// qTile[d] holds q[d] of the 4 rows.
var<workgroup> qTile: array<vec4<f32>, ${headCapacity}>;
var<workgroup> partial: array<vec4<f32>, G>;

// Barriers stay out of loops: lavapipe compiles each one into a coroutine switch point, and loops of
// them multiply its (one-off, but seconds long) compile time. Every thread sums the 64 partials itself.
fn workgroupMax(value: vec4<f32>, lid: u32) -> vec4<f32> {
  partial[lid] = value;
  workgroupBarrier();
  var result = partial[0];
  for (var i = 1u; i < G; i++) { result = max(result, partial[i]); }
  workgroupBarrier();
  return result;
}

${softCapFunction('vec4<f32>', 'u.softCap')}

fn workgroupSum(value: vec4<f32>, lid: u32) -> vec4<f32> {
  partial[lid] = value;
  workgroupBarrier();
  var result = vec4<f32>();
  for (var i = 0u; i < G; i++) { result += partial[i]; }
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = u.firstHead + wid.y;
  let kvHead = h / u.group;
  let rows = wid.x * ${ROWS}u + vec4<u32>(0u, 1u, 2u, 3u);
  let clampedRows = min(rows, vec4<u32>(u.Tq - 1u));
  for (var d = lid; d < ${headCapacity}u; d += G) {
    var value = vec4<f32>();
    if (d < u.D) {
      let at = u.qOffset + clampedRows * u.qStride + h * u.D + d;
      value = select(vec4<f32>(), vec4<f32>(q[at.x], q[at.y], q[at.z], q[at.w]), rows < vec4<u32>(u.Tq));
    }
    qTile[d] = value;
  }
  // Per row: inside this dispatch's window?, where it starts in the window, how many keys it sees.
  let flat = h * u.Tq + rows;
  let inWindow = (rows < vec4<u32>(u.Tq)) & (flat >= vec4<u32>(u.rowStart)) & (flat < vec4<u32>(u.rowEnd));
  var ends = vec4<i32>(i32(u.Tk));
  if (u.causal != 0u) { ends = clamp(vec4<i32>(rows) + i32(u.Tk) - i32(u.Tq) + 1, vec4<i32>(0), vec4<i32>(i32(u.Tk))); }
  let visible = select(vec4<u32>(0u), vec4<u32>(ends), inWindow);
  let keys = max(max(visible.x, visible.y), max(visible.z, visible.w));
  // Sliding window: each row's first visible key (0 without a window), at most its end.
  var begins = vec4<i32>(0);
  if (u.window != 0u) { begins = max(vec4<i32>(rows) + i32(u.Tk) - i32(u.Tq) - i32(u.window) + 1, vec4<i32>(0)); }
  let starts = min(vec4<u32>(begins), visible);
  let firsts = select(vec4<u32>(keys), starts, inWindow);
  let lo = min(min(firsts.x, firsts.y), min(firsts.z, firsts.w));
  // Rows outside the window get a harmless base; every access to them is masked anyway.
  let rowBase = select(vec4<u32>(0u), (flat - u.rowStart) * u.Tk, inWindow);
  workgroupBarrier();

  // 1. Scores, and the mask for keys a row does not see.
  var rowMax = vec4<f32>(-3.4e38);
  for (var j = lo + lid; j < keys; j += G) {
    var dots = vec4<f32>();
    let kBase = u.kOffset + j * u.kStride + kvHead * u.D;
    for (var d = 0u; d < u.D; d++) { dots += qTile[d] * k[kBase + d]; }
    var s = dots * u.scale;
    if (u.softCap > 0.0) { s = softCap(s); }
    ${eachRow((l) => `if (j >= starts.${l} && j < visible.${l}) {
      let at = rowBase.${l} + j;
      let score = s.${l}${hasBias ? ' + bias[at]' : ''};
      probs[at] = score;${keepScores ? '\n      scores[at] = score;' : ''}
      rowMax.${l} = max(rowMax.${l}, score);
    }`)}
  }
  for (var j = lid; j < u.Tk; j += G) {
    ${eachRow((l) => `if (inWindow.${l} && (j >= visible.${l} || j < starts.${l})) {
      probs[rowBase.${l} + j] = 0.0;${keepScores ? `\n      scores[rowBase.${l} + j] = u.maskedScore;` : ''}
    }`)}
  }
  rowMax = workgroupMax(rowMax, lid);

  // 2. e = exp(s − max) in place, and the row sums.
  var rowSum = vec4<f32>();
  for (var j = lo + lid; j < keys; j += G) {
    ${eachRow((l) => `if (j >= starts.${l} && j < visible.${l}) {
      let at = rowBase.${l} + j;
      let e = exp(probs[at] - rowMax.${l});
      probs[at] = e;
      rowSum.${l} += e;
    }`)}
  }
  rowSum = workgroupSum(rowSum, lid);
  storageBarrier();

  // 3. P·V from every thread's e (visible after the barrier), then each thread normalizes its keys.
  // A sum of 0 means a bias of −∞ masked every visible key: that row keeps probabilities and context 0.
  let inverse = select(1.0 / rowSum, vec4<f32>(), rowSum == vec4<f32>());
  for (var c = 0u; c < PER_THREAD; c++) {
    let d = lid + c * G;
    if (d < u.D) {
      var sum = vec4<f32>();
      for (var j = lo; j < keys; j++) {
        let e = vec4<f32>(${LANES.map((l) => `probs[rowBase.${l} + clamp(j, starts.${l}, max(visible.${l}, 1u) - 1u)]`).join(', ')});
        let seen = (vec4<u32>(j) < visible) & (vec4<u32>(j) >= starts);
        sum += select(vec4<f32>(), e * inverse, seen) * v[u.vOffset + j * u.vStride + kvHead * u.D + d];
      }
      let at = clampedRows * u.contextStride + h * u.D + d;
      ${eachRow((l) => `if (inWindow.${l}) { context[at.${l}] = sum.${l}; }`)}
    }
  }
  storageBarrier();
  for (var j = lo + lid; j < keys; j += G) {
    ${eachRow((l) => `if (j >= starts.${l} && j < visible.${l}) { probs[rowBase.${l} + j] *= inverse.${l}; }`)}
  }
}`,
  };
}
