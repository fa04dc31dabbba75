/**
 * Vector math for the kernels: exp (Cephes' expf: range reduction by ln 2, degree-6 polynomial, 2^n
 * built in the exponent bits; about 1 ulp) and the pointwise activations of the reference kernels,
 * four lanes at a time. Each helper takes locals and returns code that leaves an f32x4.
 */
import type { PointwiseActivation } from '../../backend';
import type { Code } from './encoding';
import { f32, f32x4, fusedMultiplyAdd, i32, i32x4, local, seq, v128 } from './ops';

const splat = (value: number): Code => f32x4.splat(f32.const(value));
const ROUNDING_MAGIC = 1.5 * 2 ** 23;

/** Scratch locals the math helpers need (all v128); one set per function. */
export interface MathScratch {
  readonly x: number;
  readonly n: number;
  readonly t: number;
}

/**
 * e^x for the lanes of `input` (`fma`: the polynomial's multiply-adds, fused where relaxed SIMD is used). Inputs below -88 (including -Infinity) give exactly 0: n = -127 makes
 * the exponent field 0. Inputs are clamped at 88, so huge arguments saturate near 1.6e38, never Infinity.
 */
export function exp(input: Code, s: MathScratch, fma: (a: Code, b: Code, c: Code) => Code = fusedMultiplyAdd(false)): Code {
  const x = local.get(s.x);
  const n = local.get(s.n);
  const t = local.get(s.t);
  const poly = [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]
    .reduce<Code>((acc, c) => fma(acc, x, splat(c)), splat(1.9875691500e-4));
  return seq(
    // pmin/pmax are single x86 instructions; wasm's min/max need a NaN-correcting sequence.
    local.set(s.x, f32x4.pmin(f32x4.pmax(input, splat(-88)), splat(88))),
    // Adding 1.5·2^23 rounds x·log2(e) to the integer n, which then sits in the low mantissa bits of t.
    local.set(s.t, fma(x, splat(Math.LOG2E), splat(ROUNDING_MAGIC))),
    local.set(s.n, f32x4.sub(t, splat(ROUNDING_MAGIC))),
    // x - n·ln2 in two steps (Cephes C1 + C2) keeps the reduced argument exact to float precision.
    local.set(s.x, fma(n, splat(-0.693359375), x)),
    local.set(s.x, fma(n, splat(2.12194440e-4), x)),
    local.set(s.n, f32x4.add(fma(f32x4.mul(poly, x), x, x), splat(1))),
    // 2^n: (n + 127) << 23; the magic's own bits shift out.
    f32x4.mul(n, i32x4.shl(i32x4.add(t, i32x4.splat(i32.const(127))), i32.const(23))),
  );
}

/** erf with the reference's Chebyshev formula (Numerical Recipes §6.2), so both backends agree. */
function erf(z: number, s: MathScratch, sign: number): Code {
  // `z` holds x; `sign` receives the sign mask; `z` is replaced by |x|.
  const zv = local.get(z);
  const tv = local.get(s.t);
  // Horner from the innermost coefficient of the reference's nested polynomial outwards.
  const coefficients = [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368];
  const poly = coefficients.reduce<Code>((acc, c) => f32x4.add(splat(c), f32x4.mul(tv, acc)), splat(0.17087277));
  return seq(
    local.set(sign, v128.and(zv, i32x4.splat(i32.const(0x80000000)))),
    local.set(z, f32x4.abs(zv)),
    local.set(s.t, f32x4.div(splat(1), f32x4.add(splat(1), f32x4.mul(splat(0.5), zv)))),
    // erfc = t·exp(-z² - 1.26551223 + t·(…)), erf(|x|) = 1 - erfc, with x's sign put back.
    local.set(s.t, f32x4.mul(tv, exp(f32x4.add(f32x4.sub(f32x4.neg(f32x4.mul(zv, zv)), splat(1.26551223)), f32x4.mul(tv, poly)), s))),
    v128.or(f32x4.sub(splat(1), tv), local.get(sign)),
  );
}

/**
 * cap · tanh(x / cap) for the lanes of v128 local `value` (left unchanged), given `minusTwoOverCap` =
 * −2 / cap as code. tanh(|u|) = (1 − t) / (1 + t) with t = e^{−2|u|} ∈ (0, 1]: no overflow and no
 * cancellation worse than one ulp of 1, then x's sign is put back. `t` receives t.
 */
export function softCap(value: number, cap: Code, minusTwoOverCap: Code, t: number, s: MathScratch, fma = fusedMultiplyAdd(false)): Code {
  const x = local.get(value);
  const tv = local.get(t);
  return seq(
    local.set(t, exp(f32x4.mul(f32x4.abs(x), minusTwoOverCap), s, fma)),
    v128.or(
      f32x4.mul(f32x4.div(f32x4.sub(splat(1), tv), f32x4.add(splat(1), tv)), cap),
      v128.and(x, i32x4.splat(i32.const(0x80000000))),
    ),
  );
}

/** Scratch for activations: the math scratch plus two more v128 locals. */
export interface ActivationScratch extends MathScratch {
  readonly a: number;
  readonly b: number;
}

/** activation(value) where `value` is a v128 local (left unchanged until the result is built). */
export function activate(activation: PointwiseActivation, value: number, s: ActivationScratch, fma = fusedMultiplyAdd(false)): Code {
  const x = local.get(value);
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return f32x4.max(x, splat(0));
    case 'silu':
      return f32x4.div(x, f32x4.add(splat(1), exp(f32x4.neg(x), s, fma)));
    case 'gelu_tanh': {
      // 0.5·x·(1 + tanh(u)) = x · e^{2u} / (e^{2u} + 1) = x / (1 + e^{-2u}).
      const u = f32x4.mul(splat(0.7978845608028654), f32x4.add(x, f32x4.mul(splat(0.044715), f32x4.mul(x, f32x4.mul(x, x)))));
      return f32x4.div(x, f32x4.add(splat(1), exp(f32x4.mul(splat(-2), u), s, fma)));
    }
    case 'gelu_erf':
      return seq(
        local.set(s.a, f32x4.mul(x, splat(Math.SQRT1_2))),
        f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), erf(s.a, s, s.b))),
      );
  }
}
