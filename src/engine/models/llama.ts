/**
 * The Llama family: Llama, Qwen2 and Mistral. Pre-norm blocks (input_layernorm before attention,
 * post_attention_layernorm before the MLP), RMSNorm, rotate-half RoPE (default, linear or llama3
 * scaling), grouped-query attention, SwiGLU. Qwen2 has q/k/v biases; Llama's attention_bias adds them
 * and an o_proj bias; Mistral (and Qwen with use_sliding_window) attend within a sliding window.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { DecoderOnlyModel } from './decoder';
import { llamaAttention, llamaMlp, llamaStyleWeights, rmsNorm, ropeDecoder } from './decoderWeights';

export function llamaModel(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const D = c.hiddenSize;
  const weights = llamaStyleWeights(file, c, (p) => ({
    inputNorm: rmsNorm(file, `${p}input_layernorm.weight`, D),
    ...llamaAttention(file, `${p}self_attn.`, c),
    preMlpNorm: rmsNorm(file, `${p}post_attention_layernorm.weight`, D),
    mlp: llamaMlp(file, `${p}mlp.`, c),
  }));
  return new DecoderOnlyModel(ropeDecoder(name, c, weights));
}
