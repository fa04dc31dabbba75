/**
 * The elementwise ops (cpu/reference/elementwise.ts), one task per ELEMENT_BLOCK elements:
 * a + b, x · factor, factor · tanh(x / factor) (the soft-cap), act(gate) · up.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { f32, f32x4, i32, ifElse, local, seq, v128, vectorLoop } from './ops';
import { ACTIVATION_CODES } from './linear';
import { activate, softCap } from './simdMath';

export const ELEMENT_BLOCK = 16384;

const I = ValType.I32;
const F = ValType.F32;
const V = ValType.V128;
const bytes = (n: Code) => i32.shl(n, i32.const(2));

/** Elementwise op ids as the kernels receive them. */
export const ELEMENTWISE = { add: 0, scale: 1, gated: 2, softCap: 3 } as const;

/** elementwise(a, b, out, count, op, factor, activation, task). */
export function elementwiseFunction(): ModuleFunction {
  const fn = new FunctionBuilder('elementwise', [I, I, I, I, I, F, I, I]);
  const [a, b, out, count, op, factor, activation, task] = fn.params.map((_, i) => i);
  const [i, end] = [fn.local(I), fn.local(I)];
  const value = fn.local(V);
  const scratch = { x: fn.local(V), n: fn.local(V), t: fn.local(V), a: fn.local(V), b: fn.local(V) };
  const get = local.get;
  const at = (base: number, index: Code) => i32.add(get(base), bytes(index));
  const start = i32.mul(get(task), i32.const(ELEMENT_BLOCK));
  const minusTwoOverCap = f32x4.splat(f32.div(f32.const(-2), get(factor)));
  const capped = vectorLoop(i, start, local.get(end),
    (j) => seq(local.set(value, v128.load(at(a, j))), v128.store(at(out, j), softCap(value, f32x4.splat(get(factor)), minusTwoOverCap, scratch.a, scratch))),
    (j) => seq(local.set(value, v128.load32_splat(at(a, j))),
      f32.store(at(out, j), f32x4.extract_lane(softCap(value, f32x4.splat(get(factor)), minusTwoOverCap, scratch.a, scratch), 0))));
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
        ifElse(i32.eq(get(op), i32.const(ELEMENTWISE.softCap)), capped, gated))),
  );
  return { builder: fn, body };
}
