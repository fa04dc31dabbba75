/**
 * IEEE 754 float16 bits of float32 values (compact probabilities).
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
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
