/**
 * The `linear` op as a register-tiled sgemm: out[M, N] = x[M, K] · wᵀ + bias, then activation, then
 * + residual. Weights are packed once at upload into panels of TILE_COLS columns ([panel][k][TILE_COLS],
 * zero padded), so the micro-kernel (tile.ts) reads them as contiguous f32x4 vectors.
 *
 * One call computes one task: a block of rows × a block of panels, numbered row-block-fastest so that
 * threads working at the same time share the weight block in the last-level cache. The activation
 * and residual pass runs over the task's block right after it, while the block is still in cache.
 */
import type { PointwiseActivation } from '../../backend';
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { f32, f32x4, forLoop, fusedMultiplyAdd, i32, ifElse, ifThen, local, seq, typedIfElse, v128 } from './ops';
import { activate } from './simdMath';
import { type BElements, TILE_COLS, TILE_ROWS, pointRows, storeTile, tileLocals, tileProduct } from './tile';

/** Activation ids as the kernels receive them. */
export const ACTIVATION_CODES: readonly PointwiseActivation[] = ['none', 'relu', 'silu', 'gelu_erf', 'gelu_tanh'];

/** The sgemm over float32 panels ('gemm'), or over bfloat16 ones ('gemm_bf16': half the weight memory, the same products). */
export function gemmFunction(relaxed: boolean, elements: BElements = 'f32'): ModuleFunction {
  const I = ValType.I32;
  const V = ValType.V128;
  const elementBytes = elements === 'f32' ? 4 : 2;
  // gemm(x, w, bias, residual, out, M, N, K, rowBlock, panelBlock, activation, task)
  const fn = new FunctionBuilder(elements === 'f32' ? 'gemm' : 'gemm_bf16', Array(12).fill(I));
  const [x, w, bias, residual, out, M, N, K, rowBlock, panelBlock, activation, task] = fn.params.map((_, i) => i);
  const get = local.get;
  const t = tileLocals(fn);
  const [rowStart, rowEnd, panelStart, panelEnd, panel, row, validRows, validCols, col, colEnd] =
    Array.from({ length: 10 }, () => fn.local(I));
  const scratch = { x: fn.local(V), n: fn.local(V), t: fn.local(V), a: fn.local(V), b: fn.local(V) };
  const value = fn.local(V);
  const bytes = (n: Code) => i32.shl(n, i32.const(2));

  const rowBlocks = i32.div_u(i32.add(get(M), i32.sub(get(rowBlock), i32.const(1))), get(rowBlock));
  const panels = i32.div_u(i32.add(get(N), i32.const(TILE_COLS - 1)), i32.const(TILE_COLS));
  const firstColumn = i32.mul(get(panel), i32.const(TILE_COLS));

  const microKernel = seq(
    local.set(validRows, i32.sub(get(rowEnd), get(row))),
    pointRows(t, i32.add(get(x), bytes(i32.mul(get(row), get(K)))), bytes(get(K)), get(validRows)),
    local.set(t.bPtr, i32.add(get(w), i32.mul(i32.mul(i32.mul(get(panel), get(K)), i32.const(TILE_COLS)), i32.const(elementBytes)))),
    tileProduct(t, get(K), i32.const(TILE_COLS * elementBytes), relaxed, elements),
    storeTile(t, get(validRows), get(validCols),
      (r) => i32.add(get(out), bytes(i32.add(i32.mul(i32.add(get(row), i32.const(r)), get(N)), firstColumn))),
      (acc, _r, j) => typedIfElse(V, get(bias), f32x4.add(acc, v128.load(i32.add(get(bias), bytes(firstColumn)), 16 * j)), acc)),
  );

  /** activation then + residual over the task's block. */
  const epilogueFor = (kind: PointwiseActivation): Code => {
    const address = (base: number) => i32.add(get(base), bytes(i32.add(i32.mul(get(row), get(N)), get(col))));
    const residualOr = (fallback: Code, load: Code) => typedIfElse(V, get(residual), load, fallback);
    return forLoop(row, get(rowStart), get(rowEnd), 1,
      forLoop(col, i32.mul(get(panelStart), i32.const(TILE_COLS)), i32.sub(get(colEnd), i32.const(3)), 4,
        local.set(value, v128.load(address(out))),
        v128.store(address(out), f32x4.add(activate(kind, value, scratch, fusedMultiplyAdd(relaxed)), residualOr(f32x4.splat(f32.const(0)), v128.load(address(residual)))))),
      // A last partial vector (N not a multiple of 4): lane 0 of a splat, one column at a time.
      forLoop(col, get(col), get(colEnd), 1,
        local.set(value, f32x4.splat(f32.load(address(out)))),
        f32.store(address(out), f32x4.extract_lane(f32x4.add(activate(kind, value, scratch, fusedMultiplyAdd(relaxed)),
          residualOr(f32x4.splat(f32.const(0)), f32x4.splat(f32.load(address(residual))))), 0))),
    );
  };
  const epilogue = ACTIVATION_CODES.reduceRight<Code>(
    (otherwise, kind, code) => ifElse(i32.eq(get(activation), i32.const(code)), epilogueFor(kind), otherwise), seq());

  const body = seq(
    local.set(rowStart, i32.mul(i32.rem_u(get(task), rowBlocks), get(rowBlock))),
    local.set(rowEnd, i32.add(get(rowStart), get(rowBlock))),
    local.set(rowEnd, i32.min_s(get(M), get(rowEnd))),
    local.set(panelStart, i32.mul(i32.div_u(get(task), rowBlocks), get(panelBlock))),
    local.set(panelEnd, i32.add(get(panelStart), get(panelBlock))),
    local.set(col, panels),
    local.set(panelEnd, i32.min_s(get(col), get(panelEnd))),
    forLoop(panel, get(panelStart), get(panelEnd), 1,
      local.set(validCols, i32.sub(get(N), firstColumn)),
      local.set(validCols, i32.min_s(i32.const(TILE_COLS), get(validCols))),
      forLoop(row, get(rowStart), get(rowEnd), TILE_ROWS, microKernel)),
    ifThen(i32.or(get(activation), get(residual)),
      local.set(colEnd, i32.mul(get(panelEnd), i32.const(TILE_COLS))),
      local.set(colEnd, i32.min_s(get(N), get(colEnd))),
      epilogue),
  );
  return { builder: fn, body };
}
