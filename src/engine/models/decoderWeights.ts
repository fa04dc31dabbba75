/**
 * Checkpoint readers the decoder families share: the Llama-style tensor names (model.layers.N.self_attn.
 * q_proj …, mlp.gate_proj …) that Llama, Qwen2/3, Mistral, Gemma and OLMo 2 all use, the norms, and the
 * definition every RoPE decoder starts from. A family file adds only what it does differently.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import { LazyTensor, concatRows, plusConstant } from '../tensor';
import { DecoderDefinition, HostAttention, HostDecoderLayer, HostDecoderWeights, HostMlp, HostNorm, LayerPlan, decoderInfo, ropeLayerPlans } from './decoder';

/** `prefix` when the checkpoint's names carry it (a *ForCausalLM save), else '' (a bare model save). */
export function namePrefix(file: WeightFile, prefix: string, probe: string): string {
  return file.has(prefix + probe) ? prefix : '';
}

/** An RMSNorm weight; Gemma's store w for a scale of (1 + w), folded here in float32 as transformers computes 1.0 + w.float(). */
export function rmsNorm(file: WeightFile, name: string, dim: number, plusOne = false): HostNorm {
  const weight = file.get(name, [dim]);
  return { weight: plusOne ? weight.map((w) => plusConstant(w, 1)) : weight };
}

export function layerNorm(file: WeightFile, prefix: string, dim: number): HostNorm {
  return { weight: file.get(`${prefix}.weight`, [dim]), bias: file.get(`${prefix}.bias`, [dim]) };
}

/** q_proj, k_proj, v_proj stacked into one [q; k; v] projection, and o_proj; biases as the config says. */
export function llamaAttention(file: WeightFile, prefix: string, c: DecoderConfig): HostAttention {
  const { hiddenSize: D } = c;
  const widths = { q: c.numHeads * c.headDim, k: c.numKvHeads * c.headDim, v: c.numKvHeads * c.headDim };
  const parts = (['q', 'k', 'v'] as const);
  return {
    qkv: LazyTensor.join(parts.map((n) => file.get(`${prefix}${n}_proj.weight`, [widths[n], D])), concatRows),
    qkvBias: c.attentionBias ? LazyTensor.join(parts.map((n) => file.get(`${prefix}${n}_proj.bias`, [widths[n]])), concatRows) : undefined,
    o: file.get(`${prefix}o_proj.weight`, [D, widths.q]),
    oBias: c.outputBias ? file.get(`${prefix}o_proj.bias`, [D]) : undefined,
  };
}

/** gate_proj, up_proj, down_proj (SwiGLU / GeGLU), with biases when mlp_bias is set. */
export function llamaMlp(file: WeightFile, prefix: string, c: DecoderConfig): HostMlp {
  const { hiddenSize: D, intermediateSize: F } = c;
  const bias = (name: string, size: number): LazyTensor | undefined => (c.mlpBias ? file.get(`${prefix}${name}.bias`, [size]) : undefined);
  return {
    gate: file.get(`${prefix}gate_proj.weight`, [F, D]), gateBias: bias('gate_proj', F),
    up: file.get(`${prefix}up_proj.weight`, [F, D]), upBias: bias('up_proj', F),
    down: file.get(`${prefix}down_proj.weight`, [D, F]), downBias: bias('down_proj', D),
  };
}

/**
 * The weights of a checkpoint with Llama-style outer names (model.embed_tokens, model.layers.N.,
 * model.norm, lm_head), each layer read by `layer` from its prefix ("model.layers.N.").
 */
export function llamaStyleWeights(file: WeightFile, c: DecoderConfig, layer: (prefix: string) => HostDecoderLayer, plusOne = false): HostDecoderWeights {
  const p = namePrefix(file, 'model.', 'embed_tokens.weight');
  const { hiddenSize: D, vocabSize: V } = c;
  return {
    embed: file.get(`${p}embed_tokens.weight`, [V, D]),
    layers: Array.from({ length: c.numLayers }, (_, l) => layer(`${p}layers.${l}.`)),
    finalNorm: rmsNorm(file, `${p}norm.weight`, D, plusOne),
    lmHead: c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [V, D]),
  };
}

/** The definition of a RoPE decoder with RMSNorm and a gated MLP; a family overrides what differs. */
export function ropeDecoder(name: string, c: DecoderConfig, weights: HostDecoderWeights, qkNorm?: LayerPlan['qkNorm'], more: Partial<DecoderDefinition> = {}): DecoderDefinition {
  return {
    info: decoderInfo(name, c), norm: 'rms', normEps: c.normEps, activation: c.activation, parallelResidual: c.parallelResidual,
    layers: ropeLayerPlans(c, qkNorm), weights, ...more,
  };
}
