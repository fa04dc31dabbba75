/**
 * Each WebAssembly kernel against its scalar twin in kernels.ts, on both code paths (relaxed-SIMD FMA
 * on the default threads, plain SIMD128 on one thread): odd sizes that leave partial tiles, one token,
 * GQA, causal with fewer or more queries than keys, scores of ±1000, fully masked rows, a position
 * bias, f16/bf16 weights, and the float16 read.
 */
import * as assert from 'assert';
import type { AttentionOptions, Backend, PointwiseActivation } from '../../src/engine/backend';
import * as reference from '../../src/engine/cpu/reference';
import { HostTensor, f32Tensor, toFloat32 } from '../../src/engine/tensor';
import { assertClose } from '../helpers/compare';
import { cpuBackends } from '../helpers/cpuBackends';

/** Deterministic values in [-amplitude, amplitude). */
function random(count: number, seed: number, amplitude = 1): Float32Array {
  let state = seed * 2654435761 + 1;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return ((state / 2 ** 32) * 2 - 1) * amplitude;
  });
}

/** Float32 values as 16-bit patterns of the given dtype (their round trip is what the backends see). */
function as16Bit(values: Float32Array, dtype: 'F16' | 'BF16'): HostTensor & { shape: number[] } {
  const data = dtype === 'F16' ? reference.toFloat16Bits(values) : Uint16Array.from(new Uint32Array(values.buffer), (b) => b >>> 16);
  return { dtype, shape: [], data };
}

async function readOne(backend: Backend, t: Parameters<Backend['release']>[0][number]): Promise<Float32Array> {
  const [values] = await backend.read([t]);
  return values;
}

for (const entry of cpuBackends().filter((b) => b.name !== 'cpu')) {
  describe(`WebAssembly kernels (${entry.name}) against the reference`, () => {
    let backend: Backend;
    before(async () => {
      backend = await entry.create();
    });
    after(() => backend?.dispose());

    const activations: PointwiseActivation[] = ['none', 'relu', 'silu', 'gelu_erf', 'gelu_tanh'];
    for (const [rows, inDim, outDim] of [[1, 3, 1], [5, 17, 9], [13, 65, 33], [70, 40, 130]]) {
      for (const activation of activations) {
        it(`linear ${rows}×${inDim} → ${outDim}, bias, ${activation}, residual`, async () => {
          const x = random(rows * inDim, 1, 2);
          const w = random(outDim * inDim, 2);
          const bias = random(outDim, 3);
          const residual = random(rows * outDim, 4);
          const out = backend.linear(backend.fromFloat32(x, [rows, inDim]), backend.upload(f32Tensor([outDim, inDim], w)), {
            bias: backend.upload(f32Tensor([outDim], bias)), activation, residual: backend.fromFloat32(residual, [rows, outDim]),
          });
          const expected = reference.linear(x, w, rows, inDim, outDim, bias, activation, residual);
          assertClose(await readOne(backend, out), expected, { atol: 2e-5, rtol: 2e-5 }, `linear ${activation}`);
        });
      }
    }

    for (const dtype of ['F16', 'BF16'] as const) {
      it(`linear with ${dtype} weights and no bias, and gather from the same (packed) table`, async () => {
        const [rows, inDim, outDim] = [7, 24, 19];
        const host = { ...as16Bit(random(outDim * inDim, 5), dtype), shape: [outDim, inDim] };
        const weights = toFloat32(host);
        const x = random(rows * inDim, 6);
        const table = backend.upload(host);
        const out = backend.linear(backend.fromFloat32(x, [rows, inDim]), table);
        assertClose(await readOne(backend, out), reference.linear(x, weights, rows, inDim, outDim), { atol: 1e-5, rtol: 1e-5 }, 'linear');
        const ids = Int32Array.of(18, 0, 7, 8);
        assert.deepStrictEqual(await readOne(backend, backend.gather(table, ids)), reference.gather(weights, inDim, ids));
      });
    }

    for (const dim of [1, 7, 64, 771]) {
      it(`layerNorm and rmsNorm over ${dim} columns`, async () => {
        const rows = 11;
        const x = random(rows * dim, 7, 3).map((v, i) => v + (i % 5));
        const weight = random(dim, 8);
        const bias = random(dim, 9);
        const t = backend.fromFloat32(x, [rows, dim]);
        const w = backend.upload(f32Tensor([dim], weight));
        const ln = backend.layerNorm(t, w, backend.upload(f32Tensor([dim], bias)), 1e-5);
        assertClose(await readOne(backend, ln), reference.layerNorm(x, weight, bias, dim, 1e-5), { atol: 2e-5, rtol: 1e-5 }, 'layerNorm');
        const rms = backend.rmsNorm(t, w, 1e-6);
        assertClose(await readOne(backend, rms), reference.rmsNorm(x, weight, dim, 1e-6), { atol: 2e-5, rtol: 1e-5 }, 'rmsNorm');
      });
    }

    it('add, scale and gated (every activation) over 16,387 elements', async () => {
      const n = 16387;
      const a = random(n, 10, 6);
      const b = random(n, 11);
      const ta = backend.fromFloat32(a, [n]);
      const tb = backend.fromFloat32(b, [n]);
      assertClose(await readOne(backend, backend.add(ta, tb)), reference.add(a, b), { atol: 1e-6 }, 'add');
      assertClose(await readOne(backend, backend.scale(ta, 0.37)), reference.scale(a, 0.37), { atol: 1e-6 }, 'scale');
      for (const activation of activations) {
        assertClose(await readOne(backend, backend.gated(ta, tb, activation)), reference.gated(a, b, activation), { atol: 2e-6, rtol: 2e-6 }, `gated ${activation}`);
      }
    });

    interface AttentionCase {
      name: string;
      heads: number;
      kvHeads: number;
      headDim: number;
      queries: number;
      keys: number;
      causal: boolean;
      amplitude?: number;
      bias?: boolean;
    }
    const cases: AttentionCase[] = [
      { name: 'one token', heads: 2, kvHeads: 2, headDim: 8, queries: 1, keys: 1, causal: true },
      { name: 'odd sizes, bidirectional', heads: 3, kvHeads: 3, headDim: 5, queries: 19, keys: 19, causal: false },
      { name: 'GQA 6/2, causal', heads: 6, kvHeads: 2, headDim: 16, queries: 37, keys: 37, causal: true },
      { name: 'one query over a cache of 23 keys', heads: 4, kvHeads: 1, headDim: 12, queries: 1, keys: 23, causal: true },
      { name: 'more queries than keys: fully masked rows', heads: 2, kvHeads: 1, headDim: 4, queries: 9, keys: 5, causal: true },
      { name: 'scores of ±1000', heads: 2, kvHeads: 2, headDim: 8, queries: 21, keys: 21, causal: true, amplitude: 60 },
      { name: 'position bias with -Infinity, every key of row 0 masked', heads: 3, kvHeads: 3, headDim: 6, queries: 10, keys: 13, causal: false, bias: true },
    ];
    for (const c of cases) {
      it(`attention: ${c.name}`, async () => {
        const amplitude = c.amplitude ?? 1;
        const q = random(c.queries * c.heads * c.headDim, 12, amplitude);
        const k = random(c.keys * c.kvHeads * c.headDim, 13, amplitude);
        const v = random(c.keys * c.kvHeads * c.headDim, 14);
        const bias = c.bias ? random(c.heads * c.queries * c.keys, 15, 4).map((b, i) => (i % 7 === 3 || i < c.keys ? -Infinity : b)) : undefined;
        const options: AttentionOptions = {
          numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: c.causal, keepScores: true,
          positionBias: bias && backend.fromFloat32(bias, [c.heads, c.queries, c.keys]),
        };
        const result = backend.attention(
          backend.fromFloat32(q, [c.queries, c.heads * c.headDim]), backend.fromFloat32(k, [c.keys, c.kvHeads * c.headDim]),
          backend.fromFloat32(v, [c.keys, c.kvHeads * c.headDim]), options);
        const expected = reference.attention(q, k, v, { ...options, queryLength: c.queries, keyLength: c.keys }, bias);
        const [probs, context, scores] = await backend.read([result.probs, result.context, result.scores!]);
        const scoreTolerance = { atol: 1e-5 * amplitude * amplitude, rtol: 1e-5 };
        assert.deepStrictEqual(scores.map((s) => +(s === -Infinity)), expected.scores.map((s) => +(s === -Infinity)), 'masked scores');
        assertClose(scores, expected.scores, scoreTolerance, 'scores', (i) => expected.scores[i] === -Infinity);
        assertClose(probs, expected.probs, { atol: 1e-6, rtol: 1e-4 }, 'probs');
        assertClose(context, expected.context, { atol: 1e-5, rtol: 1e-4 }, 'context');
        if (c.bias || c.queries > c.keys) assert.ok(expected.probs.subarray(0, c.keys).every((p) => p === 0), 'the case has a fully masked row');
      });
    }

    it('reads float16 bits exactly as the reference rounds them', async () => {
      const values = Float32Array.of(0, 1, 0.5, 1 / 3, 2 ** -14, 2 ** -15, 2 ** -24, 2 ** -26, 3e-8, 0.9999, 65504, 1e-3, ...random(1001, 16).map(Math.abs));
      const t = backend.fromFloat32(values, [values.length]);
      assert.ok(backend.readHalf, 'the WebAssembly backend reads float16');
      assert.deepStrictEqual(await backend.readHalf(t), reference.toFloat16Bits(values));
    });

    it('reads float16 over several conversion chunks (4 Mi elements each)', async () => {
      const values = random((1 << 22) * 2 + 1001, 17).map(Math.abs);
      assert.ok(backend.readHalf);
      assert.deepStrictEqual(await backend.readHalf(backend.fromFloat32(values, [values.length])), reference.toFloat16Bits(values));
    });
  });
}
