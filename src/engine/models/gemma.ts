/**
 * Gemma 2 and Gemma 3 (gemma3_text). Four RMSNorms per layer (before and after attention, before and
 * after the MLP), each scaling by (1 + w): the +1 is folded into the weights at load. Embeddings are
 * multiplied by √hidden_size, which transformers casts to the embedding dtype (float32 here). The
 * scale is query_pre_attn_scalar^-0.5, the MLP GeGLU (gelu tanh). Sliding-window layers alternate
 * with global ones (layer_types).
 * - Gemma 2: attention soft-cap (cap · tanh(s / cap) before the mask, attn_logit_softcapping) and a
 *   final-logit soft-cap (final_logit_softcapping).
 * - Gemma 3: a per-head (1 + w) RMSNorm of q and k before RoPE, and two RoPEs: local (sliding) layers
 *   use their own theta without scaling, global ones the scaled one.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { plusConstant } from '../tensor';
import { DecoderOnlyModel } from './decoder';
import { llamaAttention, llamaMlp, llamaStyleWeights, rmsNorm, ropeDecoder } from './decoderWeights';

export function gemmaModel(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const D = c.hiddenSize;
  const qkNorm = c.modelType === 'gemma3_text';
  const norm = (name: string) => rmsNorm(file, name, D, true);
  const weights = llamaStyleWeights(file, c, (p) => ({
    inputNorm: norm(`${p}input_layernorm.weight`),
    ...llamaAttention(file, `${p}self_attn.`, c),
    ...(qkNorm ? {
      qNorm: file.get(`${p}self_attn.q_norm.weight`, [c.headDim]).map((w) => plusConstant(w, 1)),
      kNorm: file.get(`${p}self_attn.k_norm.weight`, [c.headDim]).map((w) => plusConstant(w, 1)),
    } : {}),
    postAttentionNorm: norm(`${p}post_attention_layernorm.weight`),
    preMlpNorm: norm(`${p}pre_feedforward_layernorm.weight`),
    mlp: llamaMlp(file, `${p}mlp.`, c),
    postMlpNorm: norm(`${p}post_feedforward_layernorm.weight`),
  }), true);
  return new DecoderOnlyModel(ropeDecoder(name, c, weights, qkNorm ? 'per-head' : undefined, {
    embeddingScale: Math.fround(Math.sqrt(D)),
    finalSoftCap: c.finalSoftCap,
  }));
}
