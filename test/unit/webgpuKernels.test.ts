/**
 * Every WGSL kernel against its CPU twin (the reference kernels), on awkward inputs: sizes that are
 * not multiples of any tile, one token, GQA, f16/bf16 weights, scores of ±1000, fully masked rows,
 * position bias, and tensors split across several bindings (a lowered binding limit, and once the
 * real one: 12 heads × 2048² probabilities, 201 MB, over 128 MiB).
 */
import * as assert from 'assert';
import type { AttentionOptions, Backend, PointwiseActivation } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import * as reference from '../../src/engine/cpu/reference';
import type { WebGpuBackend } from '../../src/engine/webgpu/webgpuBackend';
import { webgpuOrSkip } from '../helpers/backends';
import { assertClose } from '../helpers/compare';
import { Build, assertTwins, f32, half, random } from '../helpers/webgpuTwins';

const TOLERANCE = { atol: 2e-6, rtol: 2e-5 };
const ACTIVATIONS: PointwiseActivation[] = ['none', 'gelu_erf', 'gelu_tanh', 'relu', 'silu'];

describe('WebGPU kernels against the CPU reference', function () {
  const cpu = new ReferenceBackend();
  let gpu: WebGpuBackend;
  before(async function () {
    gpu = await webgpuOrSkip(this);
  });
  after(() => gpu?.dispose());
  const twins = (name: string, build: Build, tolerance = TOLERANCE) =>
    assertTwins(name, cpu, gpu, build, tolerance);

  describe('linear', () => {
    for (const [rows, inDim, outDim] of [[1, 1, 1], [1, 3, 5], [5, 7, 130], [67, 129, 65], [130, 64, 67], [3, 4, 1]]) {
      it(`${rows}×${inDim} · ${inDim}×${outDim} with bias, every activation and a residual`, async () => {
        for (const activation of ACTIVATIONS) {
          await twins(`linear ${activation}`, (b) => b.linear(b.fromFloat32(random(rows * inDim, 1), [rows, inDim]), b.upload(f32([outDim, inDim], 2)), {
            bias: b.upload(f32([outDim], 3)), activation, residual: b.fromFloat32(random(rows * outDim, 4), [rows, outDim]),
          }));
        }
        await twins('linear plain', (b) => b.linear(b.fromFloat32(random(rows * inDim, 5), [rows, inDim]), b.upload(f32([outDim, inDim], 6))));
      });
    }
    for (const dtype of ['F16', 'BF16'] as const) {
      for (const [rows, inDim, outDim] of [[9, 64, 70], [5, 33, 17], [1, 3, 3]]) {
        it(`${dtype} weights stay 16-bit and match: ${rows}×${inDim} · ${inDim}×${outDim}`, async () => {
          await twins(`linear ${dtype}`, (b) => b.linear(b.fromFloat32(random(rows * inDim, 7), [rows, inDim]), b.upload(half(dtype, [outDim, inDim], 8)), {
            bias: b.upload(half(dtype, [outDim], 9)), activation: 'gelu_tanh',
          }));
        });
      }
    }
  });

  describe('embedding gather', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      it(`${dtype} table, first and last rows, repeats`, async () => {
        const table = dtype === 'F32' ? f32([50, 13], 10) : half(dtype, [50, 13], 10);
        await twins(`gather ${dtype}`, (b) => b.gather(b.upload(table), Int32Array.from([0, 49, 7, 7, 0, 31])));
      });
    }
    it('reads 16-bit weights back as float32', async () => {
      await twins('read f16', (b) => b.upload(half('F16', [3, 5], 11)));
    });
  });

  describe('readHalf', () => {
    for (const [rows, cols] of [[3, 7], [1, 1], [64, 129]]) {
      it(`packs ${rows}×${cols} probabilities to float16 on the GPU (within 1 ulp of the host's rounding)`, async () => {
        const values = random(rows * cols, 45).map((v) => Math.abs(v) ** 3);
        const half = await gpu.readHalf(gpu.fromFloat32(values, [rows, cols]));
        const expected = reference.toFloat16Bits(values);
        assert.strictEqual(half.length, expected.length);
        const worst = half.reduce((m, bits, i) => Math.max(m, Math.abs(bits - expected[i])), 0);
        assert.ok(worst <= 1, `float16 bits differ by up to ${worst}`);
      });
    }
  });

  describe('norms and elementwise', () => {
    for (const dim of [1, 3, 32, 129, 300]) {
      it(`LayerNorm and RMSNorm over ${dim} features`, async () => {
        const x = (b: Backend) => b.fromFloat32(random(7 * dim, 12, 3), [7, dim]);
        await twins('layerNorm', (b) => b.layerNorm(x(b), b.upload(f32([dim], 13)), b.upload(f32([dim], 14)), 1e-5));
        await twins('rmsNorm', (b) => b.rmsNorm(x(b), b.upload(f32([dim], 13)), 1e-6));
        await twins('layerNorm f16 params', (b) => b.layerNorm(x(b), b.upload(half('F16', [dim], 15)), b.upload(half('BF16', [dim], 16)), 1e-12));
      });
    }
    it('gated activations, add and scale on 5×37', async () => {
      const x = (b: Backend, seed: number) => b.fromFloat32(random(5 * 37, seed, 8), [5, 37]);
      for (const activation of ACTIVATIONS) await twins(`gated ${activation}`, (b) => b.gated(x(b, 17), x(b, 18), activation));
      await twins('add', (b) => b.add(x(b, 19), x(b, 20)));
      await twins('scale', (b) => b.scale(x(b, 21), -0.125));
    });
  });

  describe('split, RoPE and concatRows', () => {
    for (const [heads, kvHeads, headDim, offset] of [[8, 2, 8, 0], [4, 4, 64, 5], [2, 1, 2, 1000]]) {
      it(`q|k|v of ${heads}/${kvHeads} heads of ${headDim}, RoPE from position ${offset}`, async () => {
        const rows = 11;
        const width = (heads + 2 * kvHeads) * headDim;
        const invFreq = Float32Array.from({ length: headDim / 2 }, (_, i) => 10000 ** (-2 * i / headDim));
        const parts = [{ width: heads * headDim, rope: true }, { width: kvHeads * headDim, rope: true }, { width: kvHeads * headDim }];
        await twins('split', (b) => b.split(b.fromFloat32(random(rows * width, 22), [rows, width]), parts, { invFreq, headDim, rotaryDims: headDim, positionOffset: offset }));
        await twins('split without RoPE', (b) => b.split(b.fromFloat32(random(rows * width, 23), [rows, width]), parts.map((p) => ({ width: p.width }))));
        await twins('concatRows of views', (b) => {
          const [, k, v] = b.split(b.fromFloat32(random(rows * width, 24), [rows, width]), parts.map((p) => ({ width: p.width })));
          return b.concatRows(k, v);
        });
      });
    }
  });

  describe('attention', () => {
    const cases: { name: string; Tq: number; Tk: number; o: Omit<AttentionOptions, 'positionBias'>; bias?: boolean; scale?: number }[] = [
      { name: 'causal, 8/2 heads (GQA), 37 tokens', Tq: 37, Tk: 37, o: { numHeads: 8, numKvHeads: 2, headDim: 16, scale: 0.25, causal: true, keepScores: true } },
      { name: 'bidirectional, 3 heads of 5, 67 tokens', Tq: 67, Tk: 67, o: { numHeads: 3, numKvHeads: 3, headDim: 5, scale: 1 / Math.sqrt(5), causal: false, keepScores: true } },
      { name: 'one token', Tq: 1, Tk: 1, o: { numHeads: 2, numKvHeads: 1, headDim: 1, scale: 1, causal: true, keepScores: true } },
      { name: 'scores of ±1000', Tq: 19, Tk: 19, o: { numHeads: 2, numKvHeads: 2, headDim: 8, scale: 1000, causal: true, keepScores: true } },
      { name: 'cross-attention, 5 queries over 9 keys', Tq: 5, Tk: 9, o: { numHeads: 4, numKvHeads: 4, headDim: 100, scale: 0.1, causal: false, keepScores: true } },
      { name: 'causal over a cache: 3 new queries, 10 keys', Tq: 3, Tk: 10, o: { numHeads: 4, numKvHeads: 2, headDim: 256, scale: 0.0625, causal: true, keepScores: false } },
      { name: 'fully masked rows: 6 queries, 3 keys, causal', Tq: 6, Tk: 3, o: { numHeads: 2, numKvHeads: 1, headDim: 4, scale: 0.5, causal: true, keepScores: true } },
      { name: 'T5 position bias, no scaling', Tq: 13, Tk: 13, o: { numHeads: 4, numKvHeads: 4, headDim: 8, scale: 1, causal: false, keepScores: true }, bias: true },
      { name: 'decoder position bias, causal', Tq: 13, Tk: 13, o: { numHeads: 2, numKvHeads: 2, headDim: 8, scale: 1, causal: true, keepScores: true }, bias: true },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { numHeads: H, numKvHeads: Hkv, headDim: D } = c.o;
        const build = (b: Backend) => {
          const q = b.fromFloat32(random(c.Tq * H * D, 25, 2), [c.Tq, H * D]);
          const k = b.fromFloat32(random(c.Tk * Hkv * D, 26, 2), [c.Tk, Hkv * D]);
          const v = b.fromFloat32(random(c.Tk * Hkv * D, 27), [c.Tk, Hkv * D]);
          const positionBias = c.bias ? b.fromFloat32(random(H * c.Tq * c.Tk, 28, 4), [H, c.Tq, c.Tk]) : undefined;
          const r = b.attention(q, k, v, { ...c.o, positionBias });
          return [r.probs, r.context, ...(r.scores ? [r.scores] : [])];
        };
        // Scores scaled by 1000 carry float32 rounding of ±1000s: compare them relatively.
        await twins(c.name, build, { atol: 2e-6, rtol: 3e-5 });
      });
    }
    it('marks masked scores −∞ and masked probabilities 0, and all-masked rows sum to 0', async () => {
      const q = gpu.fromFloat32(random(6 * 4, 29), [6, 4]);
      const kv = gpu.fromFloat32(random(3 * 4, 30), [3, 4]);
      const r = gpu.attention(q, kv, kv, { numHeads: 1, numKvHeads: 1, headDim: 4, scale: 1, causal: true, keepScores: true });
      const [probs, scores, context] = await gpu.read([r.probs, r.scores!, r.context]);
      for (let i = 0; i < 6; i++) {
        const visible = i - 3 + 1;
        for (let j = 0; j < 3; j++) {
          assert.strictEqual(scores[i * 3 + j] === -Infinity, j >= visible, `score (${i}, ${j})`);
          if (j >= visible) assert.strictEqual(probs[i * 3 + j], 0);
        }
        const sum = probs.subarray(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - (visible > 0 ? 1 : 0)) < 1e-6, `row ${i} sums to ${sum}`);
      }
      assert.deepStrictEqual([...context.subarray(0, 12)], Array(12).fill(0), 'the context of all-masked rows is 0');
    });
  });
});

describe('WebGPU kernels split across bindings', function () {
  const cpu = new ReferenceBackend();
  let small: WebGpuBackend;
  before(async function () {
    // A 64 KiB binding limit makes every tensor here span several bindings.
    small = await webgpuOrSkip(this, { maxStorageBufferBindingSize: 65536 });
  });
  after(() => small?.dispose());

  it('linear with the weight and the rows split, f32 and f16', async () => {
    for (const weight of [f32([300, 96], 31), half('F16', [300, 96], 32)]) {
      await assertTwins('split linear', cpu, small, (b) => b.linear(b.fromFloat32(random(200 * 96, 33), [200, 96]), b.upload(weight), {
        bias: b.upload(f32([300], 34)), residual: b.fromFloat32(random(200 * 300, 35), [200, 300]),
      }), TOLERANCE);
    }
  });

  it('readHalf of probabilities split over several bindings, an odd number per row', async () => {
    const values = random(333 * 101, 46).map(Math.abs);
    const half = await small.readHalf(small.fromFloat32(values, [333, 101]));
    const expected = reference.toFloat16Bits(values);
    assert.ok(half.every((bits, i) => Math.abs(bits - expected[i]) <= 1), 'float16 bits differ by more than 1 ulp');
  });

  it('gather from a split table, norms and elementwise on split rows', async () => {
    const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 97) % 1000);
    await assertTwins('split gather', cpu, small, (b) => b.gather(b.upload(half('BF16', [1000, 100], 36)), ids), TOLERANCE);
    const x = (b: Backend) => b.fromFloat32(random(500 * 100, 37), [500, 100]);
    await assertTwins('split layerNorm', cpu, small, (b) => b.layerNorm(x(b), b.upload(f32([100], 38)), b.upload(f32([100], 39)), 1e-5), TOLERANCE);
    await assertTwins('split add', cpu, small, (b) => b.add(x(b), x(b)), TOLERANCE);
  });

  it('attention whose probabilities, scores and bias span several windows, heads cut mid-way', async () => {
    const [H, T, D] = [6, 100, 8];
    await assertTwins('split attention', cpu, small, (b) => {
      const qkv = b.fromFloat32(random(T * 3 * H * D, 40, 2), [T, 3 * H * D]);
      const [q, k, v] = b.split(qkv, [{ width: H * D }, { width: H * D }, { width: H * D }]);
      const positionBias = b.fromFloat32(random(H * T * T, 41), [H, T, T]);
      const r = b.attention(q, k, v, { numHeads: H, numKvHeads: H, headDim: D, scale: 0.3, causal: true, keepScores: true, positionBias });
      return [r.probs, r.scores!, r.context];
    }, { atol: 2e-6, rtol: 3e-5 });
  });
});

describe('WebGPU attention at the real binding limit', function () {
  let gpu: WebGpuBackend;
  before(async function () {
    gpu = await webgpuOrSkip(this);
  });
  after(() => gpu?.dispose());

  it('12 heads × 2048² probabilities (201 MB, over 128 MiB) in one layer', async function () {
    this.timeout(300000);
    const [H, T, D] = [12, 2048, 4];
    const q = random(T * H * D, 42, 2);
    const k = random(T * H * D, 43, 2);
    const v = random(T * H * D, 44);
    const r = gpu.attention(gpu.fromFloat32(q, [T, H * D]), gpu.fromFloat32(k, [T, H * D]), gpu.fromFloat32(v, [T, H * D]), {
      numHeads: H, numKvHeads: H, headDim: D, scale: 0.5, causal: true, keepScores: false,
    });
    const [probs, context] = await gpu.read([r.probs, r.context]);
    assert.strictEqual(probs.length, H * T * T);
    const expected = reference.attention(q, k, v, { numHeads: H, numKvHeads: H, headDim: D, queryLength: T, keyLength: T, scale: 0.5, causal: true });
    assertClose(probs, expected.probs, { atol: 2e-6, rtol: 3e-5 }, 'probs');
    assertClose(context, expected.context, { atol: 2e-6, rtol: 3e-5 }, 'context');
  });
});
