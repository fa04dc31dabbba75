/**
 * Attention with every probability written, one task per (head, block of ATTENTION_ROWS queries):
 *   1. scores = scale · Q_h·K_kvᵀ, soft-capped (cap · tanh(s / cap)) when asked, plus the position bias,
 *      with the 4×8 tile of tile.ts, against keys packed once per layer into panels of 8 keys
 *      (`pack_kv`, values likewise), so keys are columns;
 *   2. per row: causal and sliding-window mask (-Infinity), max, the scores copied out when kept, exp,
 *      sum, normalize;
 *   3. context = P·V with the same tile (probabilities broadcast, value rows as vectors).
 * A causal block only touches keys up to its last query's position, and with a sliding window only
 * from its first query's window start (rounded down to a key panel). GQA: head h reads kv head
 * h / (heads / kvHeads). A row whose every key is masked gets probabilities 0 and context 0.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import {
  f32, f32x4, forLoop, fusedMultiplyAdd, i32, ifElse, ifThen, local, maxLanes, select, seq, sumLanes, typedIfElse, v128, vectorLoop,
} from './ops';
import { exp, softCap as capped } from './simdMath';
import { TILE_COLS, TILE_ROWS, pointRows, storeTile, tileLocals, tileProduct } from './tile';

/** Queries per task. */
export const ATTENTION_ROWS = 16;

const I = ValType.I32;
const V = ValType.V128;
const bytes = (n: Code) => i32.shl(n, i32.const(2));
const splat = (x: number) => f32x4.splat(f32.const(x));

/**
 * pack_kv(k, v, kPanels, vPanels, keys, paddedKeys, kvHeads, headDim, task = kv head): each kv head's
 * keys as [keys / 8][d][8] (key columns of the score tile) and values as [⌈d / 8⌉][keys][8] (value
 * columns of the context tile), zero padded, so both tiles read one contiguous 32-byte row per step.
 */
function packKeysValues(): ModuleFunction {
  const fn = new FunctionBuilder('pack_kv', Array(9).fill(I));
  const [k, v, kPanels, vPanels, keys, paddedKeys, kvHeads, headDim, task] = fn.params.map((_, i) => i);
  const [j, d, dPanels] = Array.from({ length: 3 }, () => fn.local(I));
  const get = local.get;
  const source = (base: number) => i32.add(get(base), bytes(i32.add(i32.mul(get(j), i32.mul(get(kvHeads), get(headDim))), i32.add(i32.mul(get(task), get(headDim)), get(d)))));
  const lane = (n: Code) => i32.and(n, i32.const(TILE_COLS - 1));
  const panelOf = (n: Code) => i32.shr_u(n, i32.const(3));
  /** Byte address of [panel][row][lane] in panels of `rows` rows × TILE_COLS lanes. */
  const inPanels = (base: number, panel: Code, rows: Code, row: Code, laneIndex: Code) =>
    i32.add(get(base), bytes(i32.add(i32.shl(i32.add(i32.mul(panel, rows), row), i32.const(3)), laneIndex)));
  const keyPanel = i32.add(i32.mul(get(task), panelOf(get(paddedKeys))), panelOf(get(j)));
  const valuePanel = i32.add(i32.mul(get(task), get(dPanels)), panelOf(get(d)));
  const body = seq(
    local.set(dPanels, panelOf(i32.add(get(headDim), i32.const(TILE_COLS - 1)))),
    forLoop(j, i32.const(0), get(paddedKeys), 1, forLoop(d, i32.const(0), get(headDim), 1,
      f32.store(inPanels(kPanels, keyPanel, get(headDim), get(d), lane(get(j))),
        typedIfElse(ValType.F32, i32.lt_s(get(j), get(keys)), f32.load(source(k)), f32.const(0))))),
    forLoop(d, i32.const(0), i32.shl(get(dPanels), i32.const(3)), 1, forLoop(j, i32.const(0), get(keys), 1,
      f32.store(inPanels(vPanels, valuePanel, get(keys), get(j), lane(get(d))),
        typedIfElse(ValType.F32, i32.lt_s(get(d), get(headDim)), f32.load(source(v)), f32.const(0))))),
  );
  return { builder: fn, body };
}

function attention(relaxed: boolean): ModuleFunction {
  // attention(q, kPanels, vPanels, bias, probs, scores, context, queries, keys, paddedKeys, heads, kvHeads, headDim, scale, causal,
  //           softCap (0: none), window (0: none), task)
  const fn = new FunctionBuilder('attention', [...Array(13).fill(I), ValType.F32, I, ValType.F32, I, I]);
  const [q, kPanels, vPanels, bias, probs, scores, context, queries, keys, paddedKeys, heads, kvHeads, headDim, scale, causal, softCap, window, task] =
    fn.params.map((_, i) => i);
  const get = local.get;
  const t = tileLocals(fn);
  const [head, kvHead, first, end, keyStart, keyEnd, rowBase, row, col, validRows, rowStart, visible, rowPtr, out] =
    Array.from({ length: 14 }, () => fn.local(I));
  const [max, sum, minusTwoOverCap] = [fn.local(ValType.F32), fn.local(ValType.F32), fn.local(ValType.F32)];
  const [vec, acc, score, capScratch] = [fn.local(V), fn.local(V), fn.local(V), fn.local(V)];
  const mathScratch = { x: fn.local(V), n: fn.local(V), t: fn.local(V) };
  const qStride = i32.mul(get(heads), get(headDim));
  const rowStride = bytes(get(keys));
  const at = (j: Code) => i32.add(get(rowPtr), bytes(j));
  const outAt = (j: Code) => i32.add(get(out), bytes(j));
  const fill = (address: (j: Code) => Code, start: Code, end: Code, value: number) =>
    vectorLoop(col, start, end, (j) => v128.store(address(j), splat(value)), (j) => f32.store(address(j), f32.const(value)));
  /** Offset (elements) of [head, query row, key col] in a [heads, queries, keys] tensor. */
  const square = (r: Code, c: Code) => i32.add(i32.mul(i32.add(i32.mul(get(head), get(queries)), r), get(keys)), c);
  const blocks = i32.div_u(i32.add(get(queries), i32.const(ATTENTION_ROWS - 1)), i32.const(ATTENTION_ROWS));
  /** With a sliding window, the first key the query in `r` sees: max(0, r + keys − queries − window + 1); else 0. */
  const windowStart = (r: Code) => typedIfElse(I, get(window),
    select(i32.const(0), i32.add(r, i32.sub(i32.sub(get(keys), get(queries)), i32.sub(get(window), i32.const(1)))),
      i32.lt_s(i32.add(r, i32.sub(i32.sub(get(keys), get(queries)), i32.sub(get(window), i32.const(1)))), i32.const(0))),
    i32.const(0));

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
    // The block's first query sees the earliest window; start at its key panel.
    local.set(keyStart, i32.and(windowStart(get(first)), i32.const(~(TILE_COLS - 1)))),
    local.set(keyStart, i32.min_s(get(keyStart), get(keyEnd))),
    local.set(rowBase, i32.add(get(probs), bytes(square(get(first), i32.const(0))))),
    local.set(minusTwoOverCap, typedIfElse(ValType.F32, f32.eq(get(softCap), f32.const(0)), f32.const(0), f32.div(f32.const(-2), get(softCap)))),
  );

  /** One tile vector of scores: scaled, soft-capped (cap · tanh(s / cap)) when asked, then the bias. */
  const scoreVector = (a: Code, r: number, j: number, withBias: boolean, withCap: boolean): Code => {
    const scaled = f32x4.mul(a, f32x4.splat(get(scale)));
    const value = withCap
      ? seq(local.set(score, scaled), capped(score, f32x4.splat(get(softCap)), f32x4.splat(get(minusTwoOverCap)), capScratch, mathScratch, fusedMultiplyAdd(relaxed)))
      : scaled;
    return withBias ? f32x4.add(value, v128.load(i32.add(get(bias), bytes(square(i32.add(get(row), i32.const(r)), get(col)))), 16 * j)) : value;
  };

  /** The score tiles, generated with and without a position bias and a soft-cap so the tile store has no branch for them. */
  const scoresTiles = (withBias: boolean, withCap: boolean) => forLoop(col, get(keyStart), get(keyEnd), TILE_COLS,
    forLoop(row, get(first), get(end), TILE_ROWS,
      local.set(validRows, i32.sub(get(end), get(row))),
      pointRows(t, i32.add(get(q), bytes(i32.add(i32.mul(get(row), qStride), i32.mul(get(head), get(headDim))))), bytes(qStride), get(validRows)),
      local.set(t.bPtr, i32.add(get(kPanels), bytes(i32.mul(i32.add(i32.mul(get(kvHead), get(paddedKeys)), get(col)), get(headDim))))),
      tileProduct(t, get(headDim), i32.const(TILE_COLS * 4), relaxed),
      storeTile(t, get(validRows), i32.min_s(i32.const(TILE_COLS), i32.sub(get(keyEnd), get(col))),
        (r) => i32.add(get(rowBase), i32.add(i32.mul(i32.add(i32.sub(get(row), get(first)), i32.const(r)), rowStride), bytes(get(col)))),
        (a, r, j) => scoreVector(a, r, j, withBias, withCap))));

  const softmaxRow = seq(
    local.set(rowPtr, i32.add(get(rowBase), i32.mul(i32.sub(get(row), get(first)), rowStride))),
    local.set(visible, typedIfElse(I, get(causal), i32.add(get(row), i32.add(i32.sub(get(keys), get(queries)), i32.const(1))), get(keys))),
    local.set(visible, i32.min_s(get(keyEnd), get(visible))),
    local.set(visible, typedIfElse(I, i32.lt_s(get(visible), i32.const(0)), i32.const(0), get(visible))),
    // The window's first key (0 without one), never past the last visible key.
    local.set(rowStart, windowStart(get(row))),
    local.set(rowStart, i32.min_s(get(rowStart), get(visible))),
    local.set(vec, splat(-Infinity)),
    forLoop(col, get(rowStart), i32.sub(get(visible), i32.const(3)), 4, local.set(vec, f32x4.pmax(get(vec), v128.load(at(get(col)))))),
    local.set(max, maxLanes(get(vec))),
    forLoop(col, get(col), get(visible), 1, local.set(max, f32.max(get(max), f32.load(at(get(col)))))),
    ifThen(get(scores),
      local.set(out, i32.add(get(scores), bytes(square(get(row), i32.const(0))))),
      fill(outAt, i32.const(0), get(rowStart), -Infinity),
      vectorLoop(col, get(rowStart), get(visible), (j) => v128.store(outAt(j), v128.load(at(j))), (j) => f32.store(outAt(j), f32.load(at(j)))),
      fill(outAt, get(visible), get(keys), -Infinity)),
    // Every key masked (causal rows before the first key, or a bias of -Infinity): probabilities stay 0.
    ifElse(f32.eq(get(max), f32.const(-Infinity)), local.set(visible, get(rowStart)), seq(
      local.set(vec, f32x4.splat(get(max))),
      local.set(acc, splat(0)),
      forLoop(col, get(rowStart), i32.sub(get(visible), i32.const(3)), 4,
        local.set(t.value, exp(f32x4.sub(v128.load(at(get(col))), get(vec)), mathScratch, fusedMultiplyAdd(relaxed))),
        v128.store(at(get(col)), get(t.value)),
        local.set(acc, f32x4.add(get(acc), get(t.value)))),
      local.set(sum, sumLanes(get(acc))),
      forLoop(col, get(col), get(visible), 1,
        local.set(t.value, exp(f32x4.sub(f32x4.splat(f32.load(at(get(col)))), get(vec)), mathScratch, fusedMultiplyAdd(relaxed))),
        f32.store(at(get(col)), f32x4.extract_lane(get(t.value), 0)),
        local.set(sum, f32.add(get(sum), f32x4.extract_lane(get(t.value), 0)))),
      local.set(sum, f32.div(f32.const(1), get(sum))),
      local.set(vec, f32x4.splat(get(sum))),
      forLoop(col, get(rowStart), i32.sub(get(visible), i32.const(3)), 4, v128.store(at(get(col)), f32x4.mul(v128.load(at(get(col))), get(vec)))),
      forLoop(col, get(col), get(visible), 1, f32.store(at(get(col)), f32.mul(f32.load(at(get(col))), get(sum)))),
    )),
    fill(at, i32.const(0), get(rowStart), 0),
    fill(at, get(visible), get(keys), 0),
  );

  const paddedHeadDim = i32.mul(i32.shr_u(i32.add(get(headDim), i32.const(TILE_COLS - 1)), i32.const(3)), i32.const(TILE_COLS));
  const contextTiles = forLoop(col, i32.const(0), get(headDim), TILE_COLS,
    forLoop(row, get(first), get(end), TILE_ROWS,
      local.set(validRows, i32.sub(get(end), get(row))),
      pointRows(t, i32.add(get(rowBase), i32.add(i32.mul(i32.sub(get(row), get(first)), rowStride), bytes(get(keyStart)))), rowStride, get(validRows)),
      local.set(t.bPtr, i32.add(get(vPanels), bytes(i32.add(
        i32.mul(i32.add(i32.mul(get(kvHead), paddedHeadDim), get(col)), get(keys)), i32.mul(get(keyStart), i32.const(TILE_COLS)))))),
      tileProduct(t, i32.sub(get(keyEnd), get(keyStart)), i32.const(TILE_COLS * 4), relaxed),
      storeTile(t, get(validRows), i32.min_s(i32.const(TILE_COLS), i32.sub(get(headDim), get(col))),
        (r) => i32.add(get(context), bytes(i32.add(i32.mul(i32.add(get(row), i32.const(r)), qStride), i32.add(i32.mul(get(head), get(headDim)), get(col))))),
        (a) => a)));

  const body = seq(
    setup,
    ifElse(get(bias),
      ifElse(f32.eq(get(softCap), f32.const(0)), scoresTiles(true, false), scoresTiles(true, true)),
      ifElse(f32.eq(get(softCap), f32.const(0)), scoresTiles(false, false), scoresTiles(false, true))),
    forLoop(row, get(first), get(end), 1, softmaxRow),
    contextTiles,
  );
  return { builder: fn, body };
}

export function attentionFunctions(relaxed: boolean): ModuleFunction[] {
  return [packKeysValues(), attention(relaxed)];
}
