/**
 * Reads config.json into one normalized shape per architecture family, accepting both the
 * transformers-4 and transformers-5 layouts (rope_theta vs rope_parameters, torch_dtype vs dtype).
 * Every missing or nonsensical field is reported by name.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigReader, Raw } from './configReader';
import { EngineError } from '../errors';
import { Seq2SeqConfig, bartConfig, t5Config } from './seq2seqConfig';

export type { Activation, CommonConfig, RopeSettings } from './configReader';
import type { Activation, CommonConfig, RopeSettings } from './configReader';

export interface Gpt2Config extends CommonConfig {
  readonly family: 'gpt2';
  readonly activation: Activation;
  readonly layerNormEps: number;
}

export interface LlamaConfig extends CommonConfig {
  readonly family: 'llama';
  readonly numKvHeads: number;
  readonly rmsNormEps: number;
  readonly rope: RopeSettings;
  readonly attentionBias: boolean;
  readonly mlpBias: boolean;
  readonly activation: Activation;
}

export interface BertConfig extends CommonConfig {
  readonly family: 'bert';
  readonly activation: Activation;
  readonly layerNormEps: number;
  readonly typeVocabSize: number;
}

export type ModelConfig = Gpt2Config | LlamaConfig | BertConfig | Seq2SeqConfig;

export const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama', 'qwen2', 'bert', 't5', 'bart', 'marian'] as const;

export function readConfigFile(folder: string): ModelConfig {
  const file = path.join(folder, 'config.json');
  if (!fs.existsSync(file)) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} has no config.json, so it is not a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).`, {
      remedies: ['choose-model'], details: { file },
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EngineError('BAD_CONFIG', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EngineError('BAD_CONFIG', `${file} must hold a JSON object.`);
  return parseConfig(raw as Raw, file);
}

export function parseConfig(raw: Raw, file: string): ModelConfig {
  const r = new ConfigReader(raw, file);
  const modelType = raw.model_type;
  switch (modelType) {
    case 'gpt2':
      return gpt2Config(r);
    case 'llama':
    case 'qwen2':
      return llamaConfig(r, modelType);
    case 'bert':
      return bertConfig(r);
    case 't5':
      return t5Config(r);
    case 'bart':
    case 'marian':
      return bartConfig(r, modelType);
    default:
      throw new EngineError(
        'UNSUPPORTED_ARCHITECTURE',
        `${file}: model_type ${JSON.stringify(modelType)} is not supported. Supported: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
      );
  }
}

function gpt2Config(r: ConfigReader): Gpt2Config {
  const hiddenSize = r.int('n_embd');
  const numHeads = r.int('n_head');
  r.divides('n_head', hiddenSize, numHeads, 'n_embd');
  if (r.bool('scale_attn_by_inverse_layer_idx', false)) r.reject('scale_attn_by_inverse_layer_idx', 'is true, which is not supported');
  if (!r.bool('scale_attn_weights', true)) r.reject('scale_attn_weights', 'is false, which is not supported');
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers: r.int('n_layer'),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: r.has('n_inner') ? r.int('n_inner') : 4 * hiddenSize,
    maxPositions: r.int('n_positions'),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    activation: r.activation('activation_function', 'gelu_new'),
    layerNormEps: r.num('layer_norm_epsilon', 1e-5),
  };
}

function llamaConfig(r: ConfigReader, modelType: 'llama' | 'qwen2'): LlamaConfig {
  const hiddenSize = r.int('hidden_size');
  const numHeads = r.int('num_attention_heads');
  const numKvHeads = r.int('num_key_value_heads', numHeads);
  r.divides('num_key_value_heads', numHeads, numKvHeads, 'num_attention_heads');
  const headDim = r.has('head_dim') ? r.int('head_dim') : hiddenSize / numHeads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) r.reject('head_dim', `must be an even integer for RoPE, not ${headDim}`);
  return {
    family: 'llama',
    modelType,
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers: r.int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.int('intermediate_size'),
    maxPositions: r.int('max_position_embeddings', 2048),
    tieWordEmbeddings: r.bool('tie_word_embeddings', modelType === 'qwen2'),
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    rmsNormEps: r.num('rms_norm_eps', 1e-6),
    rope: r.rope(),
    // Qwen2 always has q/k/v biases; Llama only when attention_bias says so (then o_proj too).
    attentionBias: modelType === 'qwen2' ? true : r.bool('attention_bias', false),
    mlpBias: r.bool('mlp_bias', false),
    activation: r.activation('hidden_act', 'silu'),
  };
}

function bertConfig(r: ConfigReader): BertConfig {
  const hiddenSize = r.int('hidden_size');
  const numHeads = r.int('num_attention_heads');
  r.divides('num_attention_heads', hiddenSize, numHeads, 'hidden_size');
  const positionType = r.str('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') r.reject('position_embedding_type', `is "${positionType}"; only "absolute" is supported`);
  return {
    family: 'bert',
    modelType: 'bert',
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers: r.int('num_hidden_layers'),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: r.int('intermediate_size'),
    maxPositions: r.int('max_position_embeddings', 512),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    activation: r.activation('hidden_act', 'gelu'),
    layerNormEps: r.num('layer_norm_eps', 1e-12),
    typeVocabSize: r.int('type_vocab_size', 2),
  };
}
