/**
 * config.json of the RoPE decoder families (Llama, Qwen2, Mistral, Qwen3, Gemma 2, Gemma 3, GPT-NeoX,
 * Phi-3, OLMo 2) in one normalized shape, with each family's transformers defaults. Per layer: its
 * sliding window (if any) and its RoPE, from `layer_types` when the config has it, else from the
 * family's own rule (Gemma 2 alternates, Gemma 3 every sliding_window_pattern-th layer is global,
 * Qwen windows layers from max_window_layers when use_sliding_window is on, Mistral and Phi-3 window
 * every layer when sliding_window is set). What a family does not support is refused naming the field.
 */
import type { Activation, CommonConfig, ConfigReader } from './configReader';
import { LayerType, RopeSettings, readRope } from './ropeConfig';

export const DECODER_MODEL_TYPES = ['llama', 'qwen2', 'mistral', 'qwen3', 'gemma2', 'gemma3_text', 'gpt_neox', 'phi3', 'olmo2'] as const;
export type DecoderModelType = (typeof DECODER_MODEL_TYPES)[number];

/** The model file that builds each model type (src/engine/models/<family>.ts). */
export type DecoderFamily = 'llama' | 'qwen3' | 'gemma' | 'gpt_neox' | 'phi3' | 'olmo2';

const FAMILY: Record<DecoderModelType, DecoderFamily> = {
  llama: 'llama', qwen2: 'llama', mistral: 'llama', qwen3: 'qwen3', gemma2: 'gemma', gemma3_text: 'gemma', gpt_neox: 'gpt_neox', phi3: 'phi3', olmo2: 'olmo2',
};

export interface DecoderLayerConfig {
  /** Keys more than slidingWindow − 1 positions back are masked; absent: full causal attention. */
  readonly slidingWindow?: number;
  readonly rope: RopeSettings;
}

export interface DecoderConfig extends CommonConfig {
  readonly family: DecoderFamily;
  readonly modelType: DecoderModelType;
  readonly numKvHeads: number;
  /** RMSNorm eps (LayerNorm eps for GPT-NeoX). */
  readonly normEps: number;
  readonly activation: Activation;
  /** Biases on the q, k, v projections. */
  readonly attentionBias: boolean;
  /** A bias on the attention output projection. */
  readonly outputBias: boolean;
  readonly mlpBias: boolean;
  /** Multiplies q·k: head_dim^-0.5, or query_pre_attn_scalar^-0.5 (Gemma). */
  readonly attentionScale: number;
  readonly scaleSource: 'head_dim' | 'query_pre_attn_scalar';
  /** Gemma 2: scores → cap · tanh(score / cap) before the mask. */
  readonly attentionSoftCap?: number;
  /** Gemma 2: logits → cap · tanh(logit / cap). */
  readonly finalSoftCap?: number;
  /** GPT-NeoX: x + attention(ln1(x)) + mlp(ln2(x)) instead of one after the other. */
  readonly parallelResidual: boolean;
  readonly layers: readonly DecoderLayerConfig[];
}

/** The transformers defaults that differ between the families. */
interface FamilyDefaults {
  readonly maxPositions: number;
  readonly tie: boolean;
  readonly eps: number;
  readonly activation: string;
  readonly headDim?: number;
}

const DEFAULTS: Record<DecoderModelType, FamilyDefaults> = {
  llama: { maxPositions: 2048, tie: false, eps: 1e-6, activation: 'silu' },
  // The shared Qwen2 fixtures (and older checkpoints) rely on tied embeddings when the field is absent.
  qwen2: { maxPositions: 32768, tie: true, eps: 1e-6, activation: 'silu' },
  mistral: { maxPositions: 4096 * 32, tie: false, eps: 1e-6, activation: 'silu' },
  qwen3: { maxPositions: 32768, tie: false, eps: 1e-6, activation: 'silu', headDim: 128 },
  gemma2: { maxPositions: 8192, tie: true, eps: 1e-6, activation: 'gelu_pytorch_tanh', headDim: 256 },
  gemma3_text: { maxPositions: 131072, tie: true, eps: 1e-6, activation: 'gelu_pytorch_tanh', headDim: 256 },
  gpt_neox: { maxPositions: 2048, tie: false, eps: 1e-5, activation: 'gelu' },
  phi3: { maxPositions: 4096, tie: false, eps: 1e-5, activation: 'silu' },
  olmo2: { maxPositions: 2048, tie: false, eps: 1e-5, activation: 'silu' },
};

export function decoderConfig(r: ConfigReader, modelType: DecoderModelType): DecoderConfig {
  const d = DEFAULTS[modelType];
  const neox = modelType === 'gpt_neox';
  const gemma = modelType === 'gemma2' || modelType === 'gemma3_text';
  const hiddenSize = r.int('hidden_size');
  const numHeads = r.int('num_attention_heads');
  const numKvHeads = neox ? numHeads : r.int('num_key_value_heads', numHeads);
  r.divides('num_key_value_heads', numHeads, numKvHeads, 'num_attention_heads');
  const headDim = r.has('head_dim') ? r.int('head_dim') : d.headDim ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) r.reject('head_dim', `must be an even integer for RoPE, not ${headDim}`);
  const numLayers = r.int('num_hidden_layers');
  if (gemma && r.bool('use_bidirectional_attention', false)) r.reject('use_bidirectional_attention', 'is true (an embedding model), which is not supported');
  const scalar = gemma ? positive(r, 'query_pre_attn_scalar', 256) : undefined;
  const bias = attentionBiases(r, modelType);
  return {
    family: FAMILY[modelType],
    modelType,
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.int('intermediate_size'),
    // RoPE itself has no hard limit: this is the context length the config states, and the limit we keep.
    maxPositions: r.int('max_position_embeddings', d.maxPositions),
    tieWordEmbeddings: r.bool('tie_word_embeddings', d.tie),
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    normEps: r.num(neox ? 'layer_norm_eps' : 'rms_norm_eps', d.eps),
    activation: r.activation(gemma && r.has('hidden_activation') ? 'hidden_activation' : 'hidden_act', d.activation),
    ...bias,
    mlpBias: modelType === 'llama' && r.bool('mlp_bias', false),
    // As transformers writes it: head_dim**-0.5 or query_pre_attn_scalar**-0.5.
    attentionScale: (scalar ?? headDim) ** -0.5,
    scaleSource: scalar === undefined ? 'head_dim' : 'query_pre_attn_scalar',
    attentionSoftCap: modelType === 'gemma2' ? optionalPositive(r, 'attn_logit_softcapping', 50) : gemma ? optionalPositive(r, 'attn_logit_softcapping') : undefined,
    finalSoftCap: modelType === 'gemma2' ? optionalPositive(r, 'final_logit_softcapping', 30) : gemma ? optionalPositive(r, 'final_logit_softcapping') : undefined,
    parallelResidual: neox && r.bool('use_parallel_residual', true),
    layers: layerConfigs(r, modelType, numLayers, headDim),
  };
}

/** Which projections carry biases, as each family's attention_bias means it. */
function attentionBiases(r: ConfigReader, modelType: DecoderModelType): { attentionBias: boolean; outputBias: boolean } {
  switch (modelType) {
    case 'qwen2':
      return { attentionBias: true, outputBias: false }; // Qwen2 always has q/k/v biases and never an o_proj one
    case 'mistral':
    case 'phi3':
      return { attentionBias: false, outputBias: false };
    case 'gpt_neox': {
      const on = r.bool('attention_bias', true);
      return { attentionBias: on, outputBias: on };
    }
    default: {
      const on = r.bool('attention_bias', false);
      return { attentionBias: on, outputBias: on };
    }
  }
}

function positive(r: ConfigReader, field: string, fallback?: number): number {
  const v = r.num(field, fallback);
  if (!(v > 0)) r.reject(field, `must be a positive number, not ${v}`);
  return v;
}

/** A positive number; undefined where the field is null, or absent without a family default. */
function optionalPositive(r: ConfigReader, field: string, fallback?: number): number | undefined {
  if (r.has(field)) return positive(r, field);
  return r.declares(field) ? undefined : fallback;
}

/** transformers' default sliding_window where a config leaves it out (null is no window). */
const DEFAULT_WINDOW: Partial<Record<DecoderModelType, number>> = { mistral: 4096, gemma2: 4096, gemma3_text: 4096 };

/** Each layer's type (full or sliding attention), window and RoPE. */
function layerConfigs(r: ConfigReader, modelType: DecoderModelType, numLayers: number, headDim: number): DecoderLayerConfig[] {
  const types = layerTypes(r, modelType, numLayers);
  const window = types.includes('sliding_attention') ? r.int('sliding_window', r.declares('sliding_window') ? undefined : DEFAULT_WINDOW[modelType]) : undefined;
  const perTypeRope = modelType === 'gemma3_text';
  const ropes = new Map<LayerType, RopeSettings>();
  const ropeOf = (type: LayerType) => {
    const key = perTypeRope ? type : 'full_attention';
    if (!ropes.has(key)) ropes.set(key, readRope(r, headDim, perTypeRope ? type : undefined, perTypeRope ? 'rope_local_base_freq' : undefined));
    return ropes.get(key)!;
  };
  return types.map((type) => ({ rope: ropeOf(type), ...(type === 'sliding_attention' ? { slidingWindow: window } : {}) }));
}

function layerTypes(r: ConfigReader, modelType: DecoderModelType, numLayers: number): LayerType[] {
  const listed = r.strList('layer_types');
  if (listed) {
    if (listed.length !== numLayers) r.reject('layer_types', `lists ${listed.length} layers, but num_hidden_layers is ${numLayers}`);
    const unknown = listed.find((t) => t !== 'full_attention' && t !== 'sliding_attention');
    if (unknown !== undefined) r.reject('layer_types', `names the layer type "${unknown}", which is not supported (supported: full_attention, sliding_attention)`);
    return listed as LayerType[];
  }
  const each = (sliding: (layer: number) => boolean): LayerType[] =>
    Array.from({ length: numLayers }, (_, l) => (sliding(l) ? 'sliding_attention' : 'full_attention'));
  // A window given as null (or absent where the family has none) means full attention.
  const hasWindow = r.has('sliding_window');
  switch (modelType) {
    case 'mistral':
      // MistralConfig's default window is 4096: only an explicit null turns it off.
      return each(() => hasWindow || !r.declares('sliding_window'));
    case 'phi3':
      return each(() => hasWindow);
    case 'qwen2':
    case 'qwen3': {
      const on = r.bool('use_sliding_window', false) && hasWindow;
      const from = on ? r.int('max_window_layers', 28) : 0;
      return each((l) => on && l >= from);
    }
    case 'gemma2':
      return each((l) => (l + 1) % 2 !== 0);
    case 'gemma3_text': {
      const pattern = r.int('sliding_window_pattern', 6);
      return each((l) => (l + 1) % pattern !== 0);
    }
    default:
      return each(() => false);
  }
}
