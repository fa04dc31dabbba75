/**
 * The memory-bound kernels: layer norm and RMS norm (one task per block of NORM_ROWS rows) and the
 * elementwise ops (one task per ELEMENT_BLOCK elements): a + b, x · factor, act(gate) · up.
 * Sums run in four f32 lanes; the norms take the mean first and then the variance about it, as the
 * reference does.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { f32, f32x4, forLoop, i16x8, i32, i32x4, ifElse, local, seq, sumLanes, v128, vectorLoop } from './ops';
import { ACTIVATION_CODES } from './linear';
import { activate } from './simdMath';

export const NORM_ROWS = 8;
export const ELEMENT_BLOCK = 16384;

const I = ValType.I32;
const F = ValType.F32;
const V = ValType.V128;
const bytes = (n: Code) => i32.shl(n, i32.const(2));

/** layer_norm(x, weight, bias, out, rows, dim, eps, task) and rms_norm(x, weight, 0, out, rows, dim, eps, task). */
function norm(name: 'layer_norm' | 'rms_norm'): ModuleFunction {
  const fn = new FunctionBuilder(name, [I, I, I, I, I, I, F, I]);
  const [x, weight, bias, out, rows, dim, eps, task] = fn.params.map((_, i) => i);
  const [row, last, col, xRow, oRow] = Array.from({ length: 5 }, () => fn.local(I));
  const [mean, inverse, total] = [fn.local(F), fn.local(F), fn.local(F)];
  const [acc, value] = [fn.local(V), fn.local(V)];
  const get = local.get;
  const at = (base: number, i: Code) => i32.add(get(base), bytes(i));
  const layer = name === 'layer_norm';
  const centered = (v: Code) => (layer ? f32x4.sub(v, f32x4.splat(get(mean))) : v);
  const centeredScalar = (v: Code) => (layer ? f32.sub(v, get(mean)) : v);

  /** Σ f(x) over the row into `total`. */
  const rowSum = (f: (v: Code) => Code, fScalar: (v: Code) => Code) => seq(
    local.set(acc, f32x4.splat(f32.const(0))),
    local.set(total, f32.const(0)),
    vectorLoop(col, i32.const(0), local.get(dim),
      (i) => local.set(acc, f32x4.add(get(acc), f(v128.load(at(xRow, i))))),
      (i) => local.set(total, f32.add(get(total), fScalar(f32.load(at(xRow, i)))))),
    local.set(total, f32.add(get(total), sumLanes(get(acc)))),
  );
  const square = (v: Code) => seq(local.set(value, centered(v)), f32x4.mul(get(value), get(value)));
  const squareScalar = (v: Code) => seq(local.set(inverse, centeredScalar(v)), f32.mul(get(inverse), get(inverse)));
  const meanOf = (sum: Code) => f32.div(sum, f32.convert_i32_s(get(dim)));

  const normalizeVector = (i: Code) => {
    const scaled = f32x4.mul(f32x4.mul(centered(v128.load(at(xRow, i))), f32x4.splat(get(inverse))), v128.load(at(weight, i)));
    return v128.store(at(oRow, i), layer ? f32x4.add(scaled, v128.load(at(bias, i))) : scaled);
  };
  const normalizeScalar = (i: Code) => {
    const scaled = f32.mul(f32.mul(centeredScalar(f32.load(at(xRow, i))), get(inverse)), f32.load(at(weight, i)));
    return f32.store(at(oRow, i), layer ? f32.add(scaled, f32.load(at(bias, i))) : scaled);
  };

  const body = seq(
    local.set(row, i32.mul(get(task), i32.const(NORM_ROWS))),
    local.set(last, i32.add(get(row), i32.const(NORM_ROWS))),
    local.set(last, i32.min_s(get(rows), get(last))),
    forLoop(row, get(row), get(last), 1,
      local.set(xRow, at(x, i32.mul(get(row), get(dim)))),
      local.set(oRow, at(out, i32.mul(get(row), get(dim)))),
      layer ? seq(rowSum((v) => v, (v) => v), local.set(mean, meanOf(get(total)))) : seq(),
      rowSum(square, squareScalar),
      local.set(inverse, f32.div(f32.const(1), f32.sqrt(f32.add(meanOf(get(total)), get(eps))))),
      vectorLoop(col, i32.const(0), local.get(dim), normalizeVector, normalizeScalar)),
  );
  return { builder: fn, body };
}

/** Elementwise op ids as the kernels receive them. */
export const ELEMENTWISE = { add: 0, scale: 1, gated: 2 } as const;

/** elementwise(a, b, out, count, op, factor, activation, task). */
function elementwise(): ModuleFunction {
  const fn = new FunctionBuilder('elementwise', [I, I, I, I, I, F, I, I]);
  const [a, b, out, count, op, factor, activation, task] = fn.params.map((_, i) => i);
  const [i, end] = [fn.local(I), fn.local(I)];
  const value = fn.local(V);
  const scratch = { x: fn.local(V), n: fn.local(V), t: fn.local(V), a: fn.local(V), b: fn.local(V) };
  const get = local.get;
  const at = (base: number, index: Code) => i32.add(get(base), bytes(index));
  const start = i32.mul(get(task), i32.const(ELEMENT_BLOCK));
  const gated = ACTIVATION_CODES.reduceRight<Code>((otherwise, kind, code) => ifElse(i32.eq(get(activation), i32.const(code)),
    vectorLoop(i, start, local.get(end),
      (j) => seq(local.set(value, v128.load(at(a, j))), v128.store(at(out, j), f32x4.mul(activate(kind, value, scratch), v128.load(at(b, j))))),
      (j) => seq(local.set(value, v128.load32_splat(at(a, j))),
        f32.store(at(out, j), f32.mul(f32x4.extract_lane(activate(kind, value, scratch), 0), f32.load(at(b, j)))))),
    otherwise), seq());
  const body = seq(
    local.set(end, i32.add(start, i32.const(ELEMENT_BLOCK))),
    local.set(end, i32.min_s(get(count), get(end))),
    ifElse(i32.eq(get(op), i32.const(ELEMENTWISE.add)),
      vectorLoop(i, start, local.get(end),
        (j) => v128.store(at(out, j), f32x4.add(v128.load(at(a, j)), v128.load(at(b, j)))),
        (j) => f32.store(at(out, j), f32.add(f32.load(at(a, j)), f32.load(at(b, j))))),
      ifElse(i32.eq(get(op), i32.const(ELEMENTWISE.scale)),
        vectorLoop(i, start, local.get(end),
          (j) => v128.store(at(out, j), f32x4.mul(v128.load(at(a, j)), f32x4.splat(get(factor)))),
          (j) => f32.store(at(out, j), f32.mul(f32.load(at(a, j)), get(factor)))),
        gated)),
  );
  return { builder: fn, body };
}

/** f16 bits (in i32 lanes) of the non-negative finite floats in a local (read several times), rounded to nearest even, subnormals included. */
function halfBits(v: Code): Code {
  const c = (n: number) => i32x4.splat(i32.const(n));
  // Normal halves: rebias the exponent and round at bit 13, ties to even through the odd mantissa bit.
  const roundedUp = i32x4.add(i32x4.add(v, c(((15 - 127) << 23) + 0xfff)), v128.and(i32x4.shr_u(v, i32.const(13)), c(1)));
  const normal = i32x4.shr_u(roundedUp, i32.const(13));
  // Subnormal halves: adding 0.5 makes the float unit round the mantissa into the low bits.
  const magic = c(126 << 23);
  const subnormal = i32x4.sub(f32x4.add(v, magic), magic);
  return v128.bitselect(subnormal, normal, i32x4.lt_s(v, c(113 << 23)));
}


/** to_half(src, dst, count, task): float16 bits of probabilities, for compact reads. */
function toHalf(): ModuleFunction {
  const fn = new FunctionBuilder('to_half', [I, I, I, I]);
  const [src, dst, count, task] = fn.params.map((_, i) => i);
  const [i, end] = [fn.local(I), fn.local(I)];
  const value = fn.local(V);
  const get = local.get;
  const from = (j: Code) => i32.add(get(src), bytes(j));
  const to = (j: Code) => i32.add(get(dst), i32.shl(j, i32.const(1)));
  const start = i32.mul(get(task), i32.const(ELEMENT_BLOCK));
  const body = seq(
    local.set(end, i32.add(start, i32.const(ELEMENT_BLOCK))),
    local.set(end, i32.min_s(get(count), get(end))),
    vectorLoop(i, start, local.get(end),
      (j) => seq(local.set(value, v128.load(from(j))), local.set(value, halfBits(get(value))), v128.store64_lane0(to(j), i16x8.narrow_i32x4_u(get(value), get(value)))),
      (j) => seq(local.set(value, v128.load32_splat(from(j))), i32.store16(to(j), i32x4.extract_lane(halfBits(get(value)), 0)))),
  );
  return { builder: fn, body };
}

export function rowFunctions(): ModuleFunction[] {
  return [norm('layer_norm'), norm('rms_norm'), elementwise(), toHalf()];
}
