/** Seeded, reproducible numbers for the demo model: the same text gives the same picture everywhere. */

/** mulberry32: a tiny 32-bit PRNG with good statistical quality for this purpose. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller, times `std`. */
export function gaussianMatrix(rows: number, cols: number, seed: number, std: number): Float32Array {
  const uniform = seededUniform(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta) * std;
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta) * std;
  }
  return out;
}

/** FNV-1a over UTF-16 code units: a token's embedding depends only on its text. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A unit-variance embedding row for a token, the same in every run. */
export function tokenEmbedding(token: string, dim: number): Float32Array {
  return gaussianMatrix(1, dim, hashString(token), 1);
}

/** The Transformer paper's positions: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…). */
export function sinusoidalPositions(length: number, dim: number): Float32Array {
  const out = new Float32Array(length * dim);
  for (let pos = 0; pos < length; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos / Math.pow(10000, i / dim);
      out[pos * dim + i] = Math.sin(angle);
      if (i + 1 < dim) out[pos * dim + i + 1] = Math.cos(angle);
    }
  }
  return out;
}
