/**
 * ForwardWants.valueNorms on real models, on every backend, against an independent float64 computation
 * from the fixtures: each layer's input (hidden_states.l from transformers) through that family's
 * pre-attention norm and W_V (with its bias), then ‖W_O,h · v_j‖ with the weights read from the model
 * file. Then value-weighted attention as the panel shows it (view-model/weighting.ts) against
 * transformers' attentions times those norms, rows renormalised. Families that place norms, biases and fused projections differently: Llama (GQA 8/4, trained,
 * with an attention sink), Qwen2 (v bias, GQA), Gemma 2 ((1 + w) norm, heads · head_dim ≠ hidden; peaked
 * attention, §6), GPT-2 (fused Conv1D), BERT (post-LN encoder) and T5 (encoder, decoder and
 * cross-attention over the encoder's output).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../../src/engine/backend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { tensorName, type AttentionEvent } from '../../src/engine/model';
import type { NamedTensor } from '../../src/engine/loader/safetensors';
import { layerMessage } from '../../src/store/runMessages';
import { weightedLayer } from '../../src/view-model/weighting';
import { testBackends } from '../helpers/backends';
import { readReference, sharedPath } from '../helpers/shared';

type Tensors = Map<string, NamedTensor>;

/** What one family does to a layer's input before W_V, and where its weights are. */
interface Family {
  readonly model: string;
  readonly case: string;
  /** The value vectors [keys, kvHeads · headDim] and the output projection [out, heads · headDim] (row-major) of one attention. */
  values(stack: string, layer: number, weights: Tensors, fixture: Tensors, config: Record<string, number>): { v: Float64Array; o: NamedTensor };
}

const get = (t: Tensors, name: string): NamedTensor => {
  const found = t.get(name);
  if (!found) throw new Error(`${name} is not in the file`);
  return found;
};

/** x · Wᵀ + b for rows of x, W [out, in] (torch.nn.Linear). */
function linear(x: ArrayLike<number>, rows: number, w: NamedTensor, bias?: NamedTensor): Float64Array {
  const [out, inDim] = w.shape;
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < out; n++) {
      let sum = bias ? bias.data[n] : 0;
      for (let k = 0; k < inDim; k++) sum += x[r * inDim + k] * w.data[n * inDim + k];
      y[r * out + n] = sum;
    }
  }
  return y;
}

/** Each row x / √(mean x² + eps) · scale(w). */
function rmsNorm(x: NamedTensor, w: NamedTensor, eps: number, scale = (wi: number) => wi): Float64Array {
  const [rows, dim] = x.shape;
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    for (let k = 0; k < dim; k++) squares += x.data[r * dim + k] ** 2;
    const inv = 1 / Math.sqrt(squares / dim + eps);
    for (let k = 0; k < dim; k++) y[r * dim + k] = x.data[r * dim + k] * inv * scale(w.data[k]);
  }
  return y;
}

function layerNorm(x: NamedTensor, w: NamedTensor, b: NamedTensor, eps: number): Float64Array {
  const [rows, dim] = x.shape;
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let k = 0; k < dim; k++) mean += x.data[r * dim + k] / dim;
    let variance = 0;
    for (let k = 0; k < dim; k++) variance += (x.data[r * dim + k] - mean) ** 2 / dim;
    for (let k = 0; k < dim; k++) y[r * dim + k] = ((x.data[r * dim + k] - mean) / Math.sqrt(variance + eps)) * w.data[k] + b.data[k];
  }
  return y;
}

const llamaLike = (model: string, testCase: string, scale?: (w: number) => number): Family => ({
  model, case: testCase,
  values: (_stack, l, w, fixture, config) => {
    const x = get(fixture, `hidden_states.${l}`);
    const p = `model.layers.${l}.`;
    const normed = rmsNorm(x, get(w, `${p}input_layernorm.weight`), config.rms_norm_eps, scale);
    return { v: linear(normed, x.shape[0], get(w, `${p}self_attn.v_proj.weight`), w.get(`${p}self_attn.v_proj.bias`)), o: get(w, `${p}self_attn.o_proj.weight`) };
  },
});

/** Conv1D [in, out] → nn.Linear [out, in] of the columns [from, from + width). */
function conv1dColumns(w: NamedTensor, from: number, width: number): NamedTensor {
  const [inDim, outDim] = w.shape;
  const data = new Float32Array(width * inDim);
  for (let n = 0; n < width; n++) for (let k = 0; k < inDim; k++) data[n * inDim + k] = w.data[k * outDim + from + n];
  return { name: w.name, shape: [width, inDim], data };
}

const FAMILIES: Family[] = [
  llamaLike('llama-stories260K', 'once_upon'),
  llamaLike('qwen2-tiny-random', 'en_animal'),
  // Gemma's norms multiply by (1 + w).
  llamaLike('gemma2-tiny-random', 'rand_40', (w) => 1 + w),
  {
    model: 'gpt2-sort', case: 'sort_201102',
    values: (_stack, l, w, fixture, config) => {
      const x = get(fixture, `hidden_states.${l}`);
      const p = `transformer.h.${l}.`;
      const D = config.n_embd;
      const normed = layerNorm(x, get(w, `${p}ln_1.weight`), get(w, `${p}ln_1.bias`), config.layer_norm_epsilon);
      const bias = get(w, `${p}attn.c_attn.bias`);
      const vBias = { name: 'v bias', shape: [D], data: bias.data.slice(2 * D, 3 * D) };
      return { v: linear(normed, x.shape[0], conv1dColumns(get(w, `${p}attn.c_attn.weight`), 2 * D, D), vBias), o: conv1dColumns(get(w, `${p}attn.c_proj.weight`), 0, D) };
    },
  },
  {
    model: 'bert-tiny-random', case: 'en_animal',
    // Post-LN: a layer's input goes into W_V as it is.
    values: (_stack, l, w, fixture) => {
      const x = get(fixture, `hidden_states.${l}`);
      const p = `bert.encoder.layer.${l}.attention.`;
      return { v: linear(x.data, x.shape[0], get(w, `${p}self.value.weight`), get(w, `${p}self.value.bias`)), o: get(w, `${p}output.dense.weight`) };
    },
  },
  {
    model: 't5-tiny-random', case: 'zh_en_rain',
    values: (stack, l, w, fixture, config) => {
      const eps = config.layer_norm_epsilon;
      if (stack === 'cross') {
        // Cross-attention reads the encoder's output: its last hidden state, after the final norm.
        const encoded = get(fixture, `encoder_hidden_states.${config.num_layers}`);
        const p = `decoder.block.${l}.layer.1.EncDecAttention.`;
        return { v: linear(encoded.data, encoded.shape[0], get(w, `${p}v.weight`)), o: get(w, `${p}o.weight`) };
      }
      const x = get(fixture, `${stack}_hidden_states.${l}`);
      const p = `${stack}.block.${l}.layer.0.`;
      const normed = rmsNorm(x, get(w, `${p}layer_norm.weight`), eps);
      return { v: linear(normed, x.shape[0], get(w, `${p}SelfAttention.v.weight`)), o: get(w, `${p}SelfAttention.o.weight`) };
    },
  },
];

/** ‖W_O,h · v_j‖ per head and key, in float64. */
function expectedNorms(v: Float64Array, o: NamedTensor, heads: number, kvHeads: number, headDim: number): Float64Array {
  const keys = v.length / (kvHeads * headDim);
  const [outDim, inDim] = o.shape;
  const out = new Float64Array(heads * keys);
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / (heads / kvHeads));
    for (let j = 0; j < keys; j++) {
      let squares = 0;
      for (let n = 0; n < outDim; n++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += o.data[n * inDim + h * headDim + d] * v[j * kvHeads * headDim + kv * headDim + d];
        squares += dot * dot;
      }
      out[h * keys + j] = Math.sqrt(squares);
    }
  }
  return out;
}

/** A[h, i, j] · n[h, j] / Σ_j A[h, i, j] · n[h, j], in float64. */
function valueWeighted(attention: Float32Array, norms: Float64Array, heads: number, queries: number, keys: number): Float64Array {
  const out = new Float64Array(attention.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < queries; i++) {
      const row = (h * queries + i) * keys;
      let sum = 0;
      for (let j = 0; j < keys; j++) sum += attention[row + j] * norms[h * keys + j];
      for (let j = 0; j < keys; j++) out[row + j] = sum > 0 ? (attention[row + j] * norms[h * keys + j]) / sum : 0;
    }
  }
  return out;
}

for (const backendEntry of testBackends()) {
  describe(`value norms ‖W_O,h · v_j‖ on ${backendEntry.name}, against the fixtures' layer inputs`, function () {
    this.timeout(120000);
    let backend: Backend;
    before(async () => {
      backend = await backendEntry.create();
    });
    after(() => backend?.dispose());

    for (const family of FAMILIES) {
      it(`${family.model} / ${family.case}: every layer and head of every attention`, async () => {
        const dir = sharedPath('models', family.model);
        const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', family.model, `${family.case}.json`), 'utf8'));
        const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
        const fixture = readReference(sharedPath('fixtures', family.model, `${family.case}.safetensors`));
        const weights = readReference(path.join(dir, 'model.safetensors'));
        const events: AttentionEvent[] = [];
        await inspect(loadModel(dir), backend, { ids: meta.input_ids, targetIds: meta.labels }, { valueNorms: true }, {
          onEvent: (e) => void (e.type === 'attention' && events.push(e)),
        });
        assert.ok(events.length > 0);
        for (const e of events) {
          const what = `${e.stack} layer ${e.layer}`;
          assert.ok(e.valueNorms, `${what} has no value norms`);
          assert.strictEqual(e.valueNorms.length, e.numHeads * e.keyLength, `${what}: one norm per head and key`);
          const { v, o } = family.values(e.stack, e.layer, weights, fixture, config);
          const expected = expectedNorms(v, o, e.numHeads, e.numKvHeads, e.headDim);
          const largest = Math.max(...expected);
          // Our layer inputs agree with transformers' to a few parts in 10⁷ (observed up to 4e-7 of the largest norm).
          const tolerance = 5e-5 * largest;
          const worst = e.valueNorms.reduce((w, x, i) => Math.max(w, Math.abs(x - expected[i])), 0);
          assert.ok(worst <= tolerance, `${what}: |Δ| up to ${worst.toExponential(2)} (largest norm ${largest.toFixed(3)})`);
          // The norms differ across keys (a constant would pass any renormalised comparison).
          assert.ok(Math.min(...expected) < 0.8 * largest, `${what}: the norms hardly vary`);
          const shown = weightedLayer({ ...layerMessage(1, e, loadModel(dir).model.info), probs: e.probs, valueNorms: e.valueNorms }, { valueWeighted: true, hideSinks: false })!;
          const attention = get(fixture, tensorName(e)).data;
          const weighted = valueWeighted(attention, expected, e.numHeads, e.queryLength, e.keyLength);
          const far = weighted.findIndex((x, i) => Math.abs(x - shown.probs[i]) > 10 * meta.atol_hint_by_tensor[tensorName(e).replace(/\.\d+$/, '')]);
          assert.strictEqual(far, -1, `${what}: value-weighted attention at flat index ${far}: ${shown.probs[far]}, expected ${weighted[far]}`);
        }
      });
    }
  });
}
