/**
 * split: columns of a fused projection (q | k | v), with rotate-half RoPE on the parts that ask for it.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
import type { RopeSpec } from '../../backend';

/** Copies columns [start, start + width) of x [rows, cols], rotating each head by RoPE when asked. */
export function splitColumns(x: Float32Array, rows: number, cols: number, start: number, width: number, rope?: RopeSpec): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * cols + start, r * cols + start + width), r * width);
  if (rope) applyRope(out, rows, width, rope);
  return out;
}

/**
 * HF rotate_half over the first rotaryDims of each head: out = x · cos + rotate_half(x) · sin, angles
 * rounded to float32 as transformers does; dims rotaryDims … headDim − 1 are left as they are.
 */
export function applyRope(x: Float32Array, rows: number, width: number, rope: RopeSpec): void {
  const half = rope.rotaryDims / 2;
  for (let r = 0; r < rows; r++) {
    const position = rope.positionOffset + r;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(position * rope.invFreq[i]);
      const cos = Math.fround(Math.cos(angle));
      const sin = Math.fround(Math.sin(angle));
      for (let h = 0; h < width; h += rope.headDim) {
        const a = r * width + h + i;
        const x1 = x[a];
        const x2 = x[a + half];
        x[a] = x1 * cos - x2 * sin;
        x[a + half] = x2 * cos + x1 * sin;
      }
    }
  }
}
