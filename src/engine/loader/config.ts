/**
 * Reads config.json into one normalized shape per architecture family, accepting both the
 * transformers-4 and transformers-5 layouts (rope_theta vs rope_parameters, torch_dtype vs dtype).
 * Every missing or nonsensical field is reported by name. The RoPE decoders are read in
 * decoderConfig.ts (RoPE itself in ropeConfig.ts), the encoder-decoders in seq2seqConfig.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigReader, Raw } from './configReader';
import { EngineError } from '../errors';
import { readJsonObject } from './files';
import { Seq2SeqConfig, bartConfig, t5Config } from './seq2seqConfig';
import { DECODER_MODEL_TYPES, DecoderConfig, DecoderModelType, decoderConfig } from './decoderConfig';

export type { Activation, CommonConfig } from './configReader';
export type { RopeSettings } from './ropeConfig';
export type { DecoderConfig } from './decoderConfig';
import type { Activation, CommonConfig } from './configReader';

export interface Gpt2Config extends CommonConfig {
  readonly family: 'gpt2';
  readonly activation: Activation;
  readonly layerNormEps: number;
}

export interface BertConfig extends CommonConfig {
  readonly family: 'bert';
  readonly activation: Activation;
  readonly layerNormEps: number;
  readonly typeVocabSize: number;
}

export type ModelConfig = Gpt2Config | DecoderConfig | BertConfig | Seq2SeqConfig;

export const SUPPORTED_MODEL_TYPES = ['gpt2', ...DECODER_MODEL_TYPES, 'bert', 't5', 'bart', 'marian'] as const;

export function readConfigFile(folder: string): ModelConfig {
  const file = path.join(folder, 'config.json');
  if (!fs.existsSync(file)) {
    throw new EngineError('BAD_MODEL_FOLDER', `${folder} has no config.json, so it is not a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).`, {
      remedies: ['choose-model'], details: { file },
    });
  }
  const raw = readJsonObject(file, 'BAD_CONFIG');
  return parseConfig(raw, file);
}

export function parseConfig(raw: Raw, file: string): ModelConfig {
  const r = new ConfigReader(raw, file);
  const modelType = raw.model_type;
  if ((DECODER_MODEL_TYPES as readonly unknown[]).includes(modelType)) return decoderConfig(r, modelType as DecoderModelType);
  switch (modelType) {
    case 'gpt2':
      return gpt2Config(r);
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
        { remedies: ['choose-model'], details: { file, field: 'model_type' } },
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
