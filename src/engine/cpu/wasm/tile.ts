/**
 * The register-tiled inner product every matrix kernel shares: a TILE_ROWS × TILE_COLS block of
 * C = A·B held in TILE_ROWS·2 f32x4 accumulators. Per k step it loads two f32x4 of B's row k, broadcasts
 * A[r, k] for each row and does TILE_ROWS·2 fused multiply-adds. 4×8 keeps 8 accumulators, 2 B vectors
 * and a broadcast in registers; larger tiles or an unrolled k loop make V8 hoist loads and spill
 * (measured: 4×8 with no unroll ≈ 48 GFLOP/s on one core, 6×8 or 4-way unrolled ≈ 28).
 */
import { Code, FunctionBuilder, ValType } from './encoding';
import { f32, f32x4, forLoop, fusedMultiplyAdd, i32, i32x4, ifElse, ifThen, local, seq, v128 } from './ops';

export const TILE_ROWS = 4;
export const TILE_COLS = 8;
const VECTORS = TILE_COLS / 4;

export interface TileLocals {
  /** Byte pointers to A[row r, k], one per tile row; advanced by 4 bytes per k step. */
  readonly rowPtr: readonly number[];
  /** Byte pointer to B[k, first column]; advanced by the B step per k step. */
  readonly bPtr: number;
  readonly acc: readonly number[];
  readonly k: number;
  readonly b: readonly number[];
  readonly broadcast: number;
  /** A spare v128 for stores. */
  readonly value: number;
}

export function tileLocals(fn: FunctionBuilder): TileLocals {
  return {
    rowPtr: Array.from({ length: TILE_ROWS }, () => fn.local(ValType.I32)),
    bPtr: fn.local(ValType.I32),
    acc: Array.from({ length: TILE_ROWS * VECTORS }, () => fn.local(ValType.V128)),
    k: fn.local(ValType.I32),
    b: Array.from({ length: VECTORS }, () => fn.local(ValType.V128)),
    broadcast: fn.local(ValType.V128),
    value: fn.local(ValType.V128),
  };
}

/** Accumulator of tile row r, vector j (columns 4j … 4j+3). */
function accumulator(t: TileLocals, r: number, j: number): number {
  return t.acc[r * VECTORS + j];
}

/** How B's elements are stored: float32, or the upper 16 bits of float32 (bfloat16, widened exactly as loaded). */
export type BElements = 'f32' | 'bf16';

/** B's row k (TILE_COLS elements) into the b vectors. */
function loadB(t: TileLocals, elements: BElements): Code[] {
  const get = local.get;
  if (elements === 'f32') return t.b.map((v, j) => local.set(v, v128.load(get(t.bPtr), 16 * j)));
  // Eight bfloat16 in one vector: each widened to 32 bits and shifted into a float32's upper half.
  const [low, high] = t.b;
  return [
    local.set(high, v128.load(get(t.bPtr))),
    local.set(low, i32x4.shl(i32x4.extend_low_i16x8_u(get(high)), i32.const(16))),
    local.set(high, i32x4.shl(i32x4.extend_high_i16x8_u(get(high)), i32.const(16))),
  ];
}

/** Zeroes the accumulators and adds A·B over `steps` k steps (B rows `bStep` bytes apart). */
export function tileProduct(t: TileLocals, steps: Code, bStep: Code, relaxed: boolean, elements: BElements = 'f32'): Code {
  const fma = fusedMultiplyAdd(relaxed);
  const get = local.get;
  return seq(
    ...t.acc.map((a) => local.set(a, f32x4.splat(f32.const(0)))),
    forLoop(t.k, i32.const(0), steps, 1,
      ...loadB(t, elements),
      ...t.rowPtr.flatMap((p, r) => [
        local.set(t.broadcast, v128.load32_splat(get(p))),
        ...t.b.map((v, j) => local.set(accumulator(t, r, j), fma(get(t.broadcast), get(v), get(accumulator(t, r, j))))),
        local.set(p, i32.add(get(p), i32.const(4))),
      ]),
      local.set(t.bPtr, i32.add(get(t.bPtr), bStep))),
  );
}

/**
 * Points the row pointers at `base + (row + r) · stride` bytes; rows at or past `validRows` repeat
 * row 0 (valid memory, results not stored).
 */
export function pointRows(t: TileLocals, base: Code, stride: Code, validRows: Code): Code {
  return seq(...t.rowPtr.map((p, r) => local.set(p, r === 0 ? base
    : i32.add(base, i32.mul(stride, i32.mul(i32.const(r), i32.lt_s(i32.const(r), validRows)))))));
}

/**
 * For each valid row r: value = transform(accumulator), stored at rowAddress(r) + 16j; only the first
 * `validCols` columns are written (lane by lane when fewer than TILE_COLS).
 */
export function storeTile(
  t: TileLocals, validRows: Code, validCols: Code, rowAddress: (r: number) => Code, transform: (acc: Code, r: number, j: number) => Code,
): Code {
  const get = local.get;
  return seq(...Array.from({ length: TILE_ROWS }, (_, r) => ifThen(i32.gt_s(validRows, i32.const(r)),
    ...Array.from({ length: VECTORS }, (_, j) => seq(
      local.set(t.value, transform(get(accumulator(t, r, j)), r, j)),
      ifElse(i32.eq(validCols, i32.const(TILE_COLS)),
        v128.store(rowAddress(r), get(t.value), 16 * j),
        seq(...[0, 1, 2, 3].map((lane) => ifThen(i32.gt_s(validCols, i32.const(4 * j + lane)),
          f32.store(rowAddress(r), f32x4.extract_lane(get(t.value), lane), (4 * j + lane) * 4))))),
    )))));
}
