/**
 * gather: rows `ids` of an embedding table.
 * A reference kernel: the plain, readable definition every backend is tested against (sums in float64).
 */
export function gather(table: Float32Array, dim: number, ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) out.set(table.subarray(ids[t] * dim, (ids[t] + 1) * dim), t * dim);
  return out;
}
