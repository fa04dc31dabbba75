/**
 * layer_norm and rms_norm (cpu/reference/norm.ts), one task per block of NORM_ROWS rows. Sums run in
 * four f32 lanes; the layer norm takes the mean first and then the variance about it, as the
 * reference does.
 */
import { Code, FunctionBuilder, ModuleFunction, ValType } from './encoding';
import { f32, f32x4, forLoop, i32, local, seq, sumLanes, v128, vectorLoop } from './ops';

export const NORM_ROWS = 8;

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

export function normFunctions(): ModuleFunction[] {
  return [norm('layer_norm'), norm('rms_norm')];
}
