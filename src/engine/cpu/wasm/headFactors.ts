/**
 * What makes valueNorms fast on the CPU: with W_O,h = Q_h · R_h (QR, Q_h with orthonormal columns),
 * ‖W_O,h · v‖ = ‖R_h · v‖, and R_h is only headDim × headDim. A key then costs headDim² instead of
 * headDim · out multiply-adds per head (12× fewer for GPT-2), and v · R_hᵀ runs as one sgemm per kv
 * head. R (not the Gram matrix W_O,hᵀ·W_O,h, which would give the square of the norm and lose what
 * cancels in it) keeps the float32 error of the direct product.
 */
import type { HeadLayout } from '../../backend';

/**
 * For each kv head, the R factors of its query heads stacked: [group · headDim, headDim] row-major, an
 * [out, in] linear weight whose product with v is R_h · v. `element(row, col)` reads the output
 * projection [outDim, heads · headDim]. Factored in float64.
 */
export function headFactors(element: (row: number, col: number) => number, outDim: number, heads: HeadLayout): Float32Array[] {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = heads;
  const group = H / Hkv;
  const factors = Array.from({ length: Hkv }, () => new Float32Array(group * D * D));
  const columns = new Float64Array(D * outDim);
  for (let h = 0; h < H; h++) {
    for (let d = 0; d < D; d++) for (let n = 0; n < outDim; n++) columns[d * outDim + n] = element(n, h * D + d);
    factors[Math.floor(h / group)].set(triangularFactor(columns, outDim, D), (h % group) * D * D);
  }
  return factors;
}

/**
 * R [cols, cols] of A = Q·R by Householder reflections, A [rows, cols] given column by column
 * (a[c · rows + r]) and overwritten. With fewer rows than columns, R's last rows are zero.
 */
export function triangularFactor(a: Float64Array, rows: number, cols: number): Float64Array {
  const r = new Float64Array(cols * cols);
  for (let k = 0; k < Math.min(rows, cols); k++) {
    const at = k * rows;
    let norm = 0;
    for (let i = k; i < rows; i++) norm += a[at + i] * a[at + i];
    norm = Math.sqrt(norm);
    if (norm > 0) {
      // Reflect column k onto −sign(a_kk)·‖a‖·e_k; the reflector v = a − α·e_k is kept in column k.
      const alpha = a[at + k] > 0 ? -norm : norm;
      a[at + k] -= alpha;
      let vv = 0;
      for (let i = k; i < rows; i++) vv += a[at + i] * a[at + i];
      for (let j = k + 1; j < cols; j++) {
        let dot = 0;
        for (let i = k; i < rows; i++) dot += a[at + i] * a[j * rows + i];
        const f = (2 * dot) / vv;
        for (let i = k; i < rows; i++) a[j * rows + i] -= f * a[at + i];
      }
      a[at + k] = alpha;
    }
    for (let j = k; j < cols; j++) r[k * cols + j] = a[j * rows + k];
  }
  return r;
}
