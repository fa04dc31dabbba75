/**
 * IEEE 754 half precision, both ways: how probabilities travel and are kept compactly (to the panel,
 * in reports). A float16 keeps 11 significant bits: a probability p is off by at most 2⁻¹²·p
 * (0.024 % relative, ≤ 2.4·10⁻⁴ absolute), and values below 6·10⁻⁸ become 0.
 */
/** IEEE 754 half-precision bits of each value, rounded to nearest even (compact probabilities). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      out[i] = sign | 0x7c00; // too large: Infinity
    } else if (halfExponent <= 0) {
      // Subnormal or zero: shift the mantissa (with its implicit 1) into place, rounding to even.
      const shift = 14 - halfExponent;
      if (shift > 24) {
        out[i] = sign;
        continue;
      }
      const full = mantissa | 0x800000;
      const half = full >>> shift;
      const rest = full & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      out[i] = sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
    } else {
      const half = (halfExponent << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      out[i] = sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
    }
  }
  return out;
}

/** float32 value of every float16 bit pattern, built once. */
let table: Float32Array | undefined;

export function float16Table(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    table[bits] = exponent === 0 ? sign * mantissa * 2 ** -24
      : exponent === 0x1f ? (mantissa ? NaN : sign * Infinity)
        : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** float32 values of float16 bits. */
export function fromFloat16Bits(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const values = float16Table();
  for (let i = 0; i < bits.length; i++) out[i] = values[bits[i]];
  return out;
}
