/**
 * Qwen3: the Llama block with a per-head RMSNorm of q and k (q_norm, k_norm: [head_dim] weights, one
 * norm per head) before RoPE; head_dim is its own field, not hidden_size / heads.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { DecoderOnlyModel } from './decoder';
import { llamaAttention, llamaMlp, llamaStyleWeights, rmsNorm, ropeDecoder } from './decoderWeights';

export function qwen3Model(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const D = c.hiddenSize;
  const weights = llamaStyleWeights(file, c, (p) => ({
    inputNorm: rmsNorm(file, `${p}input_layernorm.weight`, D),
    ...llamaAttention(file, `${p}self_attn.`, c),
    qNorm: file.get(`${p}self_attn.q_norm.weight`, [c.headDim]),
    kNorm: file.get(`${p}self_attn.k_norm.weight`, [c.headDim]),
    preMlpNorm: rmsNorm(file, `${p}post_attention_layernorm.weight`, D),
    mlp: llamaMlp(file, `${p}mlp.`, c),
  }));
  return new DecoderOnlyModel(ropeDecoder(name, c, weights, 'per-head'));
}
