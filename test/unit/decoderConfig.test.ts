/**
 * The RoPE decoders' config.json variants that real checkpoints use: rope_scaling / rope_parameters
 * (accepted types computed, others refused naming the field and value), partial rotary, layer_types,
 * the families' sliding-window rules, Gemma's soft-caps and scale; and the position limit every model
 * keeps (TOO_MANY_TOKENS with tokens, limit and part), which a rotary model passes only when asked to.
 */
import * as assert from 'assert';
import type { Backend } from '../../src/engine/backend';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { EngineError, isEngineError } from '../../src/engine/errors';
import { inspect } from '../../src/engine/inspect';
import { parseConfig } from '../../src/engine/loader/config';
import type { DecoderConfig } from '../../src/engine/loader/decoderConfig';
import { loadModel } from '../../src/engine/loadModel';
import { sharedPath } from '../helpers/shared';

const BASE = { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 4, intermediate_size: 96, vocab_size: 100 };

function decoder(raw: Record<string, unknown>): DecoderConfig {
  return parseConfig({ ...BASE, ...raw }, 'config.json') as DecoderConfig;
}

/** The refusal names the field (in the message and details.field) and, when given, the value. */
function refuses(raw: Record<string, unknown>, field: string, value?: string): void {
  assert.throws(() => decoder(raw), (err: unknown) => {
    assert.ok(isEngineError(err), String(err));
    assert.strictEqual((err as EngineError).details.field, field, err.message);
    assert.ok(err.message.includes(`"${field}"`), err.message);
    if (value) assert.ok(err.message.includes(value), err.message);
    return true;
  });
}

describe('RoPE decoder configs: the variants real checkpoints use', () => {
  it('rope_scaling and rope_parameters: default, linear and llama3 are read, in both layouts', () => {
    assert.deepStrictEqual(decoder({ model_type: 'llama', rope_theta: 5e5, rope_scaling: null }).layers[0].rope, {
      theta: 5e5, type: 'default', factor: 1, lowFreqFactor: 1, highFreqFactor: 1, originalMaxPositions: 0, rotaryDims: 16,
    });
    assert.strictEqual(decoder({ model_type: 'llama', rope_scaling: { type: 'linear', factor: 4 } }).layers[0].rope.factor, 4);
    const llama3 = { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const v4 = decoder({ model_type: 'llama', rope_theta: 5e5, rope_scaling: llama3 }).layers[0].rope;
    const v5 = decoder({ model_type: 'llama', rope_parameters: { ...llama3, rope_theta: 5e5 } }).layers[0].rope;
    assert.deepStrictEqual(v4, v5);
    assert.deepStrictEqual([v4.type, v4.theta, v4.factor, v4.originalMaxPositions], ['llama3', 5e5, 32, 8192]);
  });

  it('refuses the RoPE scalings it does not compute, naming the field and the value', () => {
    refuses({ model_type: 'llama', rope_scaling: { type: 'dynamic', factor: 2 } }, 'rope_scaling.type', 'dynamic');
    refuses({ model_type: 'qwen2', rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } }, 'rope_scaling.rope_type', 'yarn');
    refuses({ model_type: 'phi3', rope_scaling: { type: 'longrope', long_factor: [1], short_factor: [1] } }, 'rope_scaling.type', 'longrope');
    refuses({ model_type: 'phi3', rope_scaling: { type: 'su', long_factor: [1], short_factor: [1] } }, 'rope_scaling.type', 'su');
    refuses({ model_type: 'mistral', rope_parameters: { rope_type: 'yarn', rope_theta: 1e4 } }, 'rope_parameters.rope_type', 'yarn');
    refuses({ model_type: 'llama', rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'rope_scaling.low_freq_factor');
    refuses({ model_type: 'llama', rope_parameters: { full_attention: { rope_theta: 1e6 } } }, 'rope_parameters');
  });

  it('partial rotary: partial_rotary_factor (Phi-3, transformers 5) and GPT-NeoX rotary_pct; an odd share is refused', () => {
    assert.strictEqual(decoder({ model_type: 'phi3', partial_rotary_factor: 0.5 }).layers[0].rope.rotaryDims, 8);
    assert.strictEqual(decoder({ model_type: 'gpt_neox', rotary_pct: 0.25, rotary_emb_base: 1e4 }).layers[0].rope.rotaryDims, 4);
    assert.strictEqual(decoder({ model_type: 'gpt_neox', rope_parameters: { partial_rotary_factor: 0.25, rope_theta: 1e4 } }).layers[0].rope.rotaryDims, 4);
    refuses({ model_type: 'gpt_neox', rotary_pct: 0.2 }, 'rotary_pct', '0.2');
    refuses({ model_type: 'phi3', partial_rotary_factor: 1.5 }, 'partial_rotary_factor');
  });

  it('sliding windows: Qwen2.5\'s use_sliding_window false, Mistral\'s null, layer_types, Gemma\'s alternation', () => {
    const windows = (c: DecoderConfig) => c.layers.map((l) => l.slidingWindow ?? null);
    assert.deepStrictEqual(windows(decoder({ model_type: 'qwen2', use_sliding_window: false, sliding_window: 32768, max_window_layers: 24 })), [null, null, null, null]);
    assert.deepStrictEqual(windows(decoder({ model_type: 'qwen2', use_sliding_window: true, sliding_window: 16, max_window_layers: 2 })), [null, null, 16, 16]);
    assert.deepStrictEqual(windows(decoder({ model_type: 'mistral', sliding_window: null })), [null, null, null, null]);
    assert.deepStrictEqual(windows(decoder({ model_type: 'mistral' })), [4096, 4096, 4096, 4096], 'MistralConfig\'s default');
    assert.deepStrictEqual(windows(decoder({ model_type: 'phi3', sliding_window: 2047 })), [2047, 2047, 2047, 2047]);
    assert.deepStrictEqual(windows(decoder({ model_type: 'llama', sliding_window: 8, layer_types: ['sliding_attention', 'full_attention', 'full_attention', 'sliding_attention'] })), [8, null, null, 8]);
    assert.deepStrictEqual(windows(decoder({ model_type: 'gemma2', head_dim: 16, sliding_window: 8 })), [8, null, 8, null]);
    refuses({ model_type: 'llama', layer_types: ['full_attention', 'chunked_attention', 'full_attention', 'full_attention'] }, 'layer_types', 'chunked_attention');
    refuses({ model_type: 'llama', layer_types: ['full_attention'] }, 'layer_types');
    refuses({ model_type: 'qwen3', sliding_window: null, layer_types: ['sliding_attention', 'full_attention', 'full_attention', 'full_attention'] }, 'sliding_window');
  });

  it('Gemma 3 in the transformers-4 layout: local layers use rope_local_base_freq unscaled, global ones the scaled rope_theta', () => {
    const c = decoder({
      model_type: 'gemma3_text', head_dim: 16, num_hidden_layers: 7, sliding_window: 512, sliding_window_pattern: 6,
      rope_theta: 1e6, rope_local_base_freq: 1e4, rope_scaling: { rope_type: 'linear', factor: 8 },
    });
    assert.deepStrictEqual(c.layers.map((l) => l.slidingWindow ?? null), [512, 512, 512, 512, 512, null, 512]);
    assert.deepStrictEqual([c.layers[0].rope.theta, c.layers[0].rope.type], [1e4, 'default']);
    assert.deepStrictEqual([c.layers[5].rope.theta, c.layers[5].rope.type, c.layers[5].rope.factor], [1e6, 'linear', 8]);
    assert.strictEqual(c.attentionSoftCap, undefined);
    assert.strictEqual(c.attentionScale, 256 ** -0.5, 'query_pre_attn_scalar defaults to 256');
  });

  it('Gemma 2: soft-caps default to 50 and 30, null turns them off; the scale is query_pre_attn_scalar^-0.5', () => {
    const c = decoder({ model_type: 'gemma2', head_dim: 16, query_pre_attn_scalar: 24 });
    assert.deepStrictEqual([c.attentionSoftCap, c.finalSoftCap, c.attentionScale, c.scaleSource], [50, 30, 24 ** -0.5, 'query_pre_attn_scalar']);
    const off = decoder({ model_type: 'gemma2', head_dim: 16, attn_logit_softcapping: null, final_logit_softcapping: null });
    assert.deepStrictEqual([off.attentionSoftCap, off.finalSoftCap], [undefined, undefined]);
    refuses({ model_type: 'gemma3_text', head_dim: 16, use_bidirectional_attention: true }, 'use_bidirectional_attention');
  });

  it('names the model_type it does not support', () => {
    assert.throws(() => decoder({ model_type: 'mamba' }), (err: EngineError) => err.code === 'UNSUPPORTED_ARCHITECTURE' && err.details.field === 'model_type');
  });
});

describe('the position limit: refused past max_position_embeddings; a rotary model runs past it when asked', function () {
  this.timeout(60000);
  let backend: Backend;
  before(() => {
    backend = new ReferenceBackend();
  });

  const ROTARY = [
    'qwen3-tiny-random', 'mistral-tiny-random', 'llama3-rope-tiny-random', 'gemma2-tiny-random', 'gemma3-tiny-random',
    'gptneox-tiny-random', 'phi3-tiny-random', 'olmo2-tiny-random', 'qwen2-tiny-random', 'llama-stories260K',
  ];
  for (const name of ROTARY) {
    it(`${name}: one token more than max_position_embeddings is refused (offering to run past it), and runs when asked, every row a distribution`, async () => {
      const loaded = loadModel(sharedPath('models', name));
      const limit = loaded.model.info.maxPositions;
      assert.ok(limit < 4096, `${name}: a finite trained context (${limit})`);
      const ids = Array.from({ length: limit + 1 }, (_, i) => 3 + (i % 7));
      await assert.rejects(inspect(loaded, backend, { ids }, {}, { onEvent: () => undefined }), (err: EngineError) => {
        assert.strictEqual(err.code, 'TOO_MANY_TOKENS');
        assert.deepStrictEqual(err.details, { part: 'input', tokens: limit + 1, limit });
        assert.deepStrictEqual(err.remedies, ['shorter-input', 'past-context']);
        return true;
      });
      let rows = 0;
      await inspect(loaded, backend, { ids, pastContext: true }, {}, {
        onEvent: (event) => {
          if (event.type !== 'attention' || event.layer !== 0) return;
          const keys = event.keyLength;
          for (let q = 0; q < event.queryLength; q += 97, rows++) {
            let sum = 0;
            for (let k = 0; k < keys; k++) sum += event.probs[q * keys + k];
            assert.ok(Math.abs(sum - 1) < 1e-4, `row ${q} sums to ${sum}`);
          }
        },
      });
      assert.ok(rows > 0);
    });
  }

  it('gpt2-sort: one token more than its position table is refused, even when asked to run past it', async () => {
    const loaded = loadModel(sharedPath('models', 'gpt2-sort'));
    const { maxPositions: limit, vocabSize } = loaded.model.info;
    const ids = Array.from({ length: limit + 1 }, (_, i) => i % vocabSize);
    await assert.rejects(inspect(loaded, backend, { ids, pastContext: true }, {}, { onEvent: () => undefined }), (err: EngineError) => {
      assert.strictEqual(err.code, 'TOO_MANY_TOKENS');
      assert.deepStrictEqual(err.details, { part: 'input', tokens: limit + 1, limit });
      return true;
    });
  });

  it('generation counts the cached tokens: a prompt at the table\'s end can generate one token, not two', async () => {
    const loaded = loadModel(sharedPath('models', 'gpt2-sort'));
    const { maxPositions: limit, vocabSize } = loaded.model.info;
    const ids = Array.from({ length: limit }, (_, i) => i % vocabSize);
    const run = (count: number) => inspect(loaded, backend, { ids, generate: count }, {}, { onEvent: () => undefined });
    await run(1);
    await assert.rejects(run(2), (err: EngineError) => err.code === 'TOO_MANY_TOKENS' && err.details.tokens === limit + 1 && err.details.limit === limit);
  });
});
