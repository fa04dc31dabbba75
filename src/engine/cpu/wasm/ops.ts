/**
 * Instruction helpers that build WebAssembly code as expression trees: each takes its operands' code
 * and returns the code that leaves the result on the stack, so kernels read like nested calls.
 * Only the instructions the kernels use are here. Opcodes are from the core and SIMD specifications.
 */
import { Code, ValType, signedLeb, unsignedLeb } from './encoding';

const cat = (...parts: Code[]): number[] => parts.flat();
const memarg = (align: number, offset: number) => [align, ...unsignedLeb(offset)];
const simd = (opcode: number) => [0xfd, ...unsignedLeb(opcode)];

export function seq(...parts: Code[]): number[] {
  return cat(...parts);
}

export const local = {
  get: (index: number): Code => [0x20, ...unsignedLeb(index)],
  set: (index: number, value: Code): Code => cat(value, [0x21, ...unsignedLeb(index)]),
  tee: (index: number, value: Code): Code => cat(value, [0x22, ...unsignedLeb(index)]),
};

const binary = (opcode: number) => (a: Code, b: Code): Code => cat(a, b, [opcode]);
const unary = (opcode: number) => (a: Code): Code => cat(a, [opcode]);

export const i32 = {
  const: (value: number): Code => [0x41, ...signedLeb(value | 0)],
  load: (address: Code, offset = 0): Code => cat(address, [0x28], memarg(2, offset)),
  store16: (address: Code, value: Code, offset = 0): Code => cat(address, value, [0x3b], memarg(1, offset)),
  eq: binary(0x46),
  lt_s: binary(0x48),
  gt_s: binary(0x4a),
  ge_s: binary(0x4e),
  add: binary(0x6a),
  sub: binary(0x6b),
  mul: binary(0x6c),
  div_u: binary(0x6e),
  rem_u: binary(0x70),
  and: binary(0x71),
  or: binary(0x72),
  shl: binary(0x74),
  shr_u: binary(0x76),
  /** min of two locals (each read twice). */
  min_s: (a: Code, b: Code): Code => select(a, b, i32.lt_s(a, b)),
};

export const f32 = {
  const: (value: number): Code => [0x43, ...new Uint8Array(Float32Array.of(value).buffer)],
  load: (address: Code, offset = 0): Code => cat(address, [0x2a], memarg(2, offset)),
  store: (address: Code, value: Code, offset = 0): Code => cat(address, value, [0x38], memarg(2, offset)),
  eq: binary(0x5b),
  sqrt: unary(0x91),
  add: binary(0x92),
  sub: binary(0x93),
  mul: binary(0x94),
  div: binary(0x95),
  max: binary(0x97),
  convert_i32_s: unary(0xb2),
};

export const f64 = {
  const: (value: number): Code => [0x44, ...new Uint8Array(Float64Array.of(value).buffer)],
  load: (address: Code, offset = 0): Code => cat(address, [0x2b], memarg(3, offset)),
};

const simdBinary = (opcode: number) => (a: Code, b: Code): Code => cat(a, b, simd(opcode));
const simdUnary = (opcode: number) => (a: Code): Code => cat(a, simd(opcode));

export const v128 = {
  load: (address: Code, offset = 0): Code => cat(address, simd(0x00), memarg(4, offset)),
  load32_splat: (address: Code, offset = 0): Code => cat(address, simd(0x09), memarg(2, offset)),
  store: (address: Code, value: Code, offset = 0): Code => cat(address, value, simd(0x0b), memarg(4, offset)),
  store64_lane0: (address: Code, value: Code, offset = 0): Code => cat(address, value, simd(0x5b), memarg(3, offset), [0]),
  and: simdBinary(0x4e),
  or: simdBinary(0x50),
  bitselect: (a: Code, b: Code, mask: Code): Code => cat(a, b, mask, simd(0x52)),
};

export const i32x4 = {
  splat: simdUnary(0x11),
  /** Lanes 0-3 (4-7) of eight unsigned 16-bit lanes, widened to 32 bits. */
  extend_low_i16x8_u: simdUnary(0xa9),
  extend_high_i16x8_u: simdUnary(0xaa),
  shl: simdBinary(0xab),
  shr_u: simdBinary(0xad),
  add: simdBinary(0xae),
  sub: simdBinary(0xb1),
  lt_s: simdBinary(0x39),
  extract_lane: (v: Code, lane: number): Code => cat(v, simd(0x1b), [lane]),
};

export const i16x8 = {
  narrow_i32x4_u: simdBinary(0x86),
};

export const f32x4 = {
  splat: simdUnary(0x13),
  extract_lane: (v: Code, lane: number): Code => cat(v, simd(0x1f), [lane]),
  abs: simdUnary(0xe0),
  neg: simdUnary(0xe1),
  add: simdBinary(0xe4),
  sub: simdBinary(0xe5),
  mul: simdBinary(0xe6),
  div: simdBinary(0xe7),
  min: simdBinary(0xe8),
  max: simdBinary(0xe9),
  /** b < a ? b : a — one instruction on x86; no NaN propagation (use where NaN cannot occur or may be dropped). */
  pmin: simdBinary(0xea),
  /** a < b ? b : a — one instruction on x86. */
  pmax: simdBinary(0xeb),
};

/** Two float64 lanes: rounding as scalar float64 (no fused multiply-add). */
export const f64x2 = {
  splat: simdUnary(0x14),
  add: simdBinary(0xf0),
  mul: simdBinary(0xf2),
};

/** a·b + c, one rounding (relaxed-SIMD madd), or a multiply and an add where relaxed SIMD is absent. */
export function fusedMultiplyAdd(relaxed: boolean): (a: Code, b: Code, c: Code) => Code {
  return relaxed ? (a, b, c) => cat(a, b, c, simd(0x105)) : (a, b, c) => f32x4.add(f32x4.mul(a, b), c);
}

export function select(a: Code, b: Code, condition: Code): Code {
  return cat(a, b, condition, [0x1b]);
}

export function ifThen(condition: Code, ...body: Code[]): Code {
  return cat(condition, [0x04, 0x40], ...body, [0x0b]);
}

export function ifElse(condition: Code, then: Code, otherwise: Code): Code {
  return cat(condition, [0x04, 0x40], then, [0x05], otherwise, [0x0b]);
}

/** An `if` that leaves a value of `type`: condition ? then : otherwise, evaluating only one side. */
export function typedIfElse(type: ValType, condition: Code, then: Code, otherwise: Code): Code {
  return cat(condition, [0x04, type], then, [0x05], otherwise, [0x0b]);
}

function brIf(depth: number, condition: Code): Code {
  return cat(condition, [0x0d, ...unsignedLeb(depth)]);
}

/**
 * for (counter = start; counter < end; counter += step) body — `end` is re-evaluated each round.
 * Inside the body, depth 0 continues and depth 1 breaks out.
 */
export function forLoop(counter: number, start: Code, end: Code, step: number | Code, ...body: Code[]): Code {
  const stepCode = typeof step === 'number' ? i32.const(step) : step;
  return cat(
    local.set(counter, start),
    [0x02, 0x40, 0x03, 0x40],
    brIf(1, i32.ge_s(local.get(counter), end)),
    ...body,
    local.set(counter, i32.add(local.get(counter), stepCode)),
    [0x0c, 0x00, 0x0b, 0x0b],
  );
}

/** for (counter = start; counter < end; …): `vector` four elements at a time, then `scalar` for the rest. */
export function vectorLoop(counter: number, start: Code, end: Code, vector: (i: Code) => Code, scalar: (i: Code) => Code): Code {
  return cat(
    forLoop(counter, start, i32.sub(end, i32.const(3)), 4, vector(local.get(counter))),
    forLoop(counter, local.get(counter), end, 1, scalar(local.get(counter))),
  );
}

/** Horizontal sum of an f32x4. */
export function sumLanes(v: Code): Code {
  return f32.add(f32.add(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), f32.add(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Horizontal max of an f32x4. */
export function maxLanes(v: Code): Code {
  return f32.max(f32.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), f32.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

export { ValType };
