/**
 * Attention with every probability written, one task per (head, block of ATTENTION_ROWS queries):
 *   1. scores = scale · Q_h·K_kvᵀ (+ position bias) with the 4×8 tile of tile.ts, against keys
 *      transposed once per layer into [kvHead][d][paddedKeys] (`transpose_keys`), so keys are columns;
 *   2. per row: causal mask (-Infinity), max, the scores copied out when kept, exp, sum, normalize;
 *   3. context = P·V with the same tile (probabilities broadcast, value rows as vectors).
 * A causal block only touches keys up to its last query's position. GQA: head h reads kv head
 * h / (heads / kvHeads). A row whose every key is masked gets probabilities 0 and context 0.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import {
  f32, f32x4, forLoop, i32, ifElse, ifThen, local, maxLanes, seq, sumLanes, typedIfElse, v128,
} from './ops';
import { exp } from './simdMath';
import { TILE_COLS, TILE_ROWS, pointRows, storeTile, tileLocals, tileProduct } from './tile';

/** Queries per task. */
export const ATTENTION_ROWS = 16;

const I = ValType.I32;
const V = ValType.V128;
const bytes = (n: Code) => i32.shl(n, i32.const(2));
const splat = (x: number) => f32x4.splat(f32.const(x));

/** transpose_keys(k, kT, keys, paddedKeys, kvHeads, headDim, task = kv head): kT[h][d][j] = k[j, h·D + d], 0 past `keys`. */
function transposeKeys(): ModuleFunction {
  const fn = new FunctionBuilder('transpose_keys', Array(7).fill(I));
  const [k, kT, keys, paddedKeys, kvHeads, headDim, task] = fn.params.map((_, i) => i);
  const [d, j, dst, src] = [fn.local(I), fn.local(I), fn.local(I), fn.local(I)];
  const get = local.get;
  const body = forLoop(d, i32.const(0), get(headDim), 1,
    local.set(dst, i32.add(get(kT), bytes(i32.mul(i32.add(i32.mul(get(task), get(headDim)), get(d)), get(paddedKeys))))),
    local.set(src, i32.add(get(k), bytes(i32.add(i32.mul(get(task), get(headDim)), get(d))))),
    forLoop(j, i32.const(0), get(keys), 1,
      f32.store(i32.add(get(dst), bytes(get(j))), f32.load(get(src))),
      local.set(src, i32.add(get(src), bytes(i32.mul(get(kvHeads), get(headDim)))))),
    forLoop(j, get(keys), get(paddedKeys), 1, f32.store(i32.add(get(dst), bytes(get(j))), f32.const(0))));
  return { builder: fn, body };
}

function attention(relaxed: boolean): ModuleFunction {
  // attention(q, kT, v, bias, probs, scores, context, queries, keys, paddedKeys, heads, kvHeads, headDim, scale, causal, task)
  const fn = new FunctionBuilder('attention', [...Array(13).fill(I), ValType.F32, I, I]);
  const [q, kT, v, bias, probs, scores, context, queries, keys, paddedKeys, heads, kvHeads, headDim, scale, causal, task] =
    fn.params.map((_, i) => i);
  const get = local.get;
  const t = tileLocals(fn);
  const [head, kvHead, first, end, keyEnd, rowBase, row, col, validRows, visible, rowPtr] = Array.from({ length: 11 }, () => fn.local(I));
  const [max, sum] = [fn.local(ValType.F32), fn.local(ValType.F32)];
  const [vec, acc] = [fn.local(V), fn.local(V)];
  const mathScratch = { x: fn.local(V), n: fn.local(V), t: fn.local(V) };
  const qStride = i32.mul(get(heads), get(headDim));
  const rowStride = bytes(get(keys));
  const at = (j: Code) => i32.add(get(rowPtr), bytes(j));
  /** Offset (elements) of [head, query row, key col] in a [heads, queries, keys] tensor. */
  const square = (r: Code, c: Code) => i32.add(i32.mul(i32.add(i32.mul(get(head), get(queries)), r), get(keys)), c);
  const blocks = i32.div_u(i32.add(get(queries), i32.const(ATTENTION_ROWS - 1)), i32.const(ATTENTION_ROWS));

  const setup = seq(
    local.set(head, i32.div_u(get(task), blocks)),
    local.set(first, i32.mul(i32.rem_u(get(task), blocks), i32.const(ATTENTION_ROWS))),
    local.set(end, i32.add(get(first), i32.const(ATTENTION_ROWS))),
    local.set(end, i32.min_s(get(queries), get(end))),
    local.set(kvHead, i32.div_u(get(head), i32.div_u(get(heads), get(kvHeads)))),
    // Causal: query i sees keys up to i + keys - queries; the block needs keys up to its last row's.
    local.set(keyEnd, typedIfElse(I, get(causal), i32.add(get(end), i32.sub(get(keys), get(queries))), get(keys))),
    local.set(keyEnd, i32.min_s(get(keys), get(keyEnd))),
    local.set(keyEnd, typedIfElse(I, i32.lt_s(get(keyEnd), i32.const(0)), i32.const(0), get(keyEnd))),
    local.set(rowBase, i32.add(get(probs), bytes(square(get(first), i32.const(0))))),
  );

  const scoresTiles = forLoop(col, i32.const(0), get(keyEnd), TILE_COLS,
    forLoop(row, get(first), get(end), TILE_ROWS,
      local.set(validRows, i32.sub(get(end), get(row))),
      pointRows(t, i32.add(get(q), bytes(i32.add(i32.mul(get(row), qStride), i32.mul(get(head), get(headDim))))), bytes(qStride), get(validRows)),
      local.set(t.bPtr, i32.add(get(kT), bytes(i32.add(i32.mul(i32.mul(get(kvHead), get(headDim)), get(paddedKeys)), get(col))))),
      tileProduct(t, get(headDim), bytes(get(paddedKeys)), relaxed),
      storeTile(t, get(validRows), i32.min_s(i32.const(TILE_COLS), i32.sub(get(keyEnd), get(col))),
        (r) => i32.add(get(rowBase), i32.add(i32.mul(i32.add(i32.sub(get(row), get(first)), i32.const(r)), rowStride), bytes(get(col)))),
        (a, r, j) => f32x4.add(f32x4.mul(a, f32x4.splat(get(scale))), typedIfElse(V, get(bias),
          v128.load(i32.add(get(bias), bytes(square(i32.add(get(row), i32.const(r)), get(col)))), 16 * j), splat(0))))));

  const softmaxRow = seq(
    local.set(rowPtr, i32.add(get(rowBase), i32.mul(i32.sub(get(row), get(first)), rowStride))),
    local.set(visible, typedIfElse(I, get(causal), i32.add(get(row), i32.add(i32.sub(get(keys), get(queries)), i32.const(1))), get(keys))),
    local.set(visible, i32.min_s(get(keyEnd), get(visible))),
    local.set(visible, typedIfElse(I, i32.lt_s(get(visible), i32.const(0)), i32.const(0), get(visible))),
    local.set(vec, splat(-Infinity)),
    forLoop(col, i32.const(0), i32.sub(get(visible), i32.const(3)), 4, local.set(vec, f32x4.max(get(vec), v128.load(at(get(col)))))),
    local.set(max, maxLanes(get(vec))),
    forLoop(col, get(col), get(visible), 1, local.set(max, f32.max(get(max), f32.load(at(get(col)))))),
    forLoop(col, get(visible), get(keys), 1, f32.store(at(get(col)), f32.const(-Infinity))),
    ifThen(get(scores), forLoop(col, i32.const(0), get(keys), 1,
      f32.store(i32.add(get(scores), bytes(square(get(row), get(col)))), f32.load(at(get(col)))))),
    // Every key masked (causal rows before the first key, or a bias of -Infinity): probabilities stay 0.
    ifElse(f32.eq(get(max), f32.const(-Infinity)), local.set(visible, i32.const(0)), seq(
      local.set(vec, f32x4.splat(get(max))),
      local.set(acc, splat(0)),
      forLoop(col, i32.const(0), i32.sub(get(visible), i32.const(3)), 4,
        local.set(t.value, exp(f32x4.sub(v128.load(at(get(col))), get(vec)), mathScratch)),
        v128.store(at(get(col)), get(t.value)),
        local.set(acc, f32x4.add(get(acc), get(t.value)))),
      local.set(sum, sumLanes(get(acc))),
      forLoop(col, get(col), get(visible), 1,
        local.set(t.value, exp(f32x4.sub(f32x4.splat(f32.load(at(get(col)))), get(vec)), mathScratch)),
        f32.store(at(get(col)), f32x4.extract_lane(get(t.value), 0)),
        local.set(sum, f32.add(get(sum), f32x4.extract_lane(get(t.value), 0)))),
      local.set(sum, f32.div(f32.const(1), get(sum))),
      local.set(vec, f32x4.splat(get(sum))),
      forLoop(col, i32.const(0), i32.sub(get(visible), i32.const(3)), 4, v128.store(at(get(col)), f32x4.mul(v128.load(at(get(col))), get(vec)))),
      forLoop(col, get(col), get(visible), 1, f32.store(at(get(col)), f32.mul(f32.load(at(get(col))), get(sum)))),
    )),
    forLoop(col, get(visible), get(keys), 1, f32.store(at(get(col)), f32.const(0))),
  );

  const kvStride = bytes(i32.mul(get(kvHeads), get(headDim)));
  const contextTiles = forLoop(col, i32.const(0), get(headDim), TILE_COLS,
    forLoop(row, get(first), get(end), TILE_ROWS,
      local.set(validRows, i32.sub(get(end), get(row))),
      pointRows(t, i32.add(get(rowBase), i32.mul(i32.sub(get(row), get(first)), rowStride)), rowStride, get(validRows)),
      local.set(t.bPtr, i32.add(get(v), bytes(i32.add(i32.mul(get(kvHead), get(headDim)), get(col))))),
      tileProduct(t, get(keyEnd), kvStride, relaxed),
      storeTile(t, get(validRows), i32.min_s(i32.const(TILE_COLS), i32.sub(get(headDim), get(col))),
        (r) => i32.add(get(context), bytes(i32.add(i32.mul(i32.add(get(row), i32.const(r)), qStride), i32.add(i32.mul(get(head), get(headDim)), get(col))))),
        (a) => a)));

  const body = seq(
    setup,
    scoresTiles,
    forLoop(row, get(first), get(end), 1, softmaxRow),
    contextTiles,
  );
  return { builder: fn, body };
}

export function attentionFunctions(relaxed: boolean): ModuleFunction[] {
  return [transposeKeys(), attention(relaxed)];
}
