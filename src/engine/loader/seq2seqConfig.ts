/** config.json for the encoder-decoder families: T5 and BART / Marian. */
import type { Activation, CommonConfig, ConfigReader } from './configReader';

interface Seq2SeqCommon extends CommonConfig {
  readonly numDecoderLayers: number;
  readonly decoderIntermediateSize: number;
  readonly decoderStartTokenId: number;
  readonly layerNormEps: number;
}

export interface T5Config extends Seq2SeqCommon {
  readonly family: 't5';
  readonly relativeBuckets: number;
  readonly relativeMaxDistance: number;
  readonly activation: Activation;
  /** gated-gelu (T5 v1.1, Flan-T5): wo(act(wi_0 x) · wi_1 x); else wo(act(wi x)). */
  readonly gatedFeedForward: boolean;
  /** Tied embeddings: the decoder output is multiplied by d_model^-0.5 before the LM head. */
  readonly scaleDecoderOutputs: boolean;
}

export interface BartConfig extends Seq2SeqCommon {
  readonly family: 'bart';
  readonly modelType: 'bart' | 'marian';
  readonly activation: Activation;
  readonly scaleEmbedding: boolean;
  /** BART's learned positions start at row 2; Marian's are sinusoidal from position 0. */
  readonly positions: 'learned' | 'sinusoidal';
  readonly positionOffset: number;
  readonly layernormEmbedding: boolean;
}

export type Seq2SeqConfig = T5Config | BartConfig;

export function t5Config(r: ConfigReader): T5Config {
  const hiddenSize = r.int('d_model');
  const numLayers = r.int('num_layers');
  const tie = r.bool('tie_word_embeddings', true);
  // "relu", "gelu", "gated-gelu", "gated-silu": an optional "gated-" prefix and an activation name.
  const projection = r.str('feed_forward_proj', 'relu');
  const gated = projection.startsWith('gated-');
  const actName = gated ? projection.slice(6) : projection;
  const activation = r.activationNamed('feed_forward_proj', actName === 'gelu' && gated ? 'gelu_new' : actName);
  const relativeBuckets = r.int('relative_attention_num_buckets', 32);
  const relativeMaxDistance = r.int('relative_attention_max_distance', 128);
  // Exact buckets come first (a quarter of them in the encoder), then log-spaced ones up to the max
  // distance: fewer than 4 buckets, or a max distance inside the exact range, divides by zero.
  if (relativeBuckets < 4) r.reject('relative_attention_num_buckets', `(${relativeBuckets}) must be at least 4`);
  if (relativeMaxDistance <= Math.floor(relativeBuckets / 2)) r.reject('relative_attention_max_distance', `(${relativeMaxDistance}) must be larger than half of relative_attention_num_buckets (${relativeBuckets})`);
  return {
    family: 't5', modelType: 't5',
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers,
    numDecoderLayers: r.int('num_decoder_layers', numLayers),
    numHeads: r.int('num_heads'),
    headDim: r.int('d_kv'),
    intermediateSize: r.int('d_ff'),
    decoderIntermediateSize: r.int('d_ff'),
    maxPositions: Number.MAX_SAFE_INTEGER,
    tieWordEmbeddings: tie,
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    decoderStartTokenId: r.intOrZero('decoder_start_token_id', r.has('pad_token_id') ? r.intOrZero('pad_token_id') : 0),
    layerNormEps: r.num('layer_norm_epsilon', 1e-6),
    relativeBuckets,
    relativeMaxDistance,
    activation,
    gatedFeedForward: gated,
    scaleDecoderOutputs: r.bool('scale_decoder_outputs', tie),
  };
}

export function bartConfig(r: ConfigReader, modelType: 'bart' | 'marian'): BartConfig {
  const hiddenSize = r.int('d_model');
  const numHeads = r.int('encoder_attention_heads');
  if (r.int('decoder_attention_heads', numHeads) !== numHeads) r.reject('decoder_attention_heads', 'must equal encoder_attention_heads');
  r.divides('encoder_attention_heads', hiddenSize, numHeads, 'd_model');
  if (r.bool('normalize_before', false)) r.reject('normalize_before', 'is true (pre-LN, as in mBART), which is not supported yet');
  const marian = modelType === 'marian';
  return {
    family: 'bart', modelType,
    vocabSize: r.int('vocab_size'),
    hiddenSize,
    numLayers: r.int('encoder_layers'),
    numDecoderLayers: r.int('decoder_layers'),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: r.int('encoder_ffn_dim'),
    decoderIntermediateSize: r.int('decoder_ffn_dim'),
    maxPositions: r.int('max_position_embeddings'),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    dtype: r.dtype(),
    eosTokenIds: r.idList('eos_token_id'),
    decoderStartTokenId: r.intOrZero('decoder_start_token_id', marian && r.has('pad_token_id') ? r.intOrZero('pad_token_id') : 2),
    layerNormEps: 1e-5,
    activation: r.activation('activation_function', 'gelu'),
    scaleEmbedding: r.bool('scale_embedding', marian),
    positions: marian ? 'sinusoidal' : 'learned',
    positionOffset: marian ? 0 : 2,
    layernormEmbedding: !marian,
  };
}
