/**
 * to_half (cpu/reference/half.ts): float16 bits of probabilities, converted in the kernels so that a
 * compact read moves half the bytes. One task per ELEMENT_BLOCK elements.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { ELEMENT_BLOCK } from './elementwise';
import { f32x4, i16x8, i32, i32x4, local, seq, v128, vectorLoop } from './ops';

const I = ValType.I32;
const V = ValType.V128;
const bytes = (n: Code) => i32.shl(n, i32.const(2));

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
export function toHalfFunction(): ModuleFunction {
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
