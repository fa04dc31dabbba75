/**
 * OLMo 2: no norm before attention or MLP; instead each branch's output is normalized before the
 * residual add (post_attention_layernorm, post_feedforward_layernorm). q and k are RMS-normalized
 * over the whole projection of all heads at once (q_norm: [heads · head_dim]), before RoPE.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { DecoderOnlyModel } from './decoder';
import { llamaAttention, llamaMlp, llamaStyleWeights, rmsNorm, ropeDecoder } from './decoderWeights';

export function olmo2Model(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const D = c.hiddenSize;
  const weights = llamaStyleWeights(file, c, (p) => ({
    ...llamaAttention(file, `${p}self_attn.`, c),
    qNorm: file.get(`${p}self_attn.q_norm.weight`, [c.numHeads * c.headDim]),
    kNorm: file.get(`${p}self_attn.k_norm.weight`, [c.numKvHeads * c.headDim]),
    postAttentionNorm: rmsNorm(file, `${p}post_attention_layernorm.weight`, D),
    mlp: llamaMlp(file, `${p}mlp.`, c),
    postMlpNorm: rmsNorm(file, `${p}post_feedforward_layernorm.weight`, D),
  }));
  return new DecoderOnlyModel(ropeDecoder(name, c, weights, 'whole-projection'));
}
