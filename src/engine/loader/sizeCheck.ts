/**
 * config.json's sizes against the weights' shapes, read from the safetensors headers alone, before a
 * model allocates anything. A model sizes arrays from its config (RoPE tables, one entry per layer)
 * before it reads the tensor whose shape would contradict a wrong number; bounding every size by the
 * weights first turns "hidden_size": 1e12 or 2³² layers into an error naming the field instead of a
 * RangeError or gigabytes of memory. Each family's exact shapes are still checked tensor by tensor as
 * the model reads them (WeightFile.get).
 */
import { EngineError } from '../errors';
import type { ModelConfig } from './config';
import { readJsonObject } from './files';
import type { WeightFile } from './weights';

/** "model.layers.3.", "transformer.h.3.", "encoder.block.3.", "bert.encoder.layer.3.": the stack and the index. */
const LAYER_NAME = /^(.*?)(?:^|\.)(?:layers|layer|h|block|blocks)\.(\d+)\./;

/** The config fields each normalized size may come from, in the order families use them. */
const FIELD_NAMES = {
  vocabSize: ['vocab_size'],
  hiddenSize: ['hidden_size', 'n_embd', 'd_model'],
  intermediateSize: ['intermediate_size', 'n_inner', 'd_ff', 'encoder_ffn_dim'],
  decoderIntermediateSize: ['decoder_ffn_dim', 'd_ff'],
  headDim: ['head_dim', 'd_kv'],
  numHeads: ['num_attention_heads', 'n_head', 'num_heads', 'encoder_attention_heads'],
  numKvHeads: ['num_key_value_heads'],
  numLayers: ['num_hidden_layers', 'n_layer', 'num_layers', 'encoder_layers'],
  numDecoderLayers: ['num_decoder_layers', 'decoder_layers', 'num_layers'],
  decoderStartTokenId: ['decoder_start_token_id', 'pad_token_id'],
} as const;

type Sized = keyof typeof FIELD_NAMES;

interface StackSize {
  readonly count: number;
  /** The last layer's name prefix, for the message. */
  readonly last: string;
}

/** How many layers each stack of the weights holds: the decoder's, and the rest (the main or encoder stack). */
function layerCounts(weights: WeightFile): { main?: StackSize; decoder?: StackSize } {
  const stacks: { main?: StackSize; decoder?: StackSize } = {};
  for (const { name } of weights.entries()) {
    const match = LAYER_NAME.exec(name);
    if (!match) continue;
    const stack = match[1].endsWith('decoder') ? 'decoder' : 'main';
    const count = Number(match[2]) + 1;
    if (count > (stacks[stack]?.count ?? 0)) stacks[stack] = { count, last: match[0].slice(0, -1) };
  }
  return stacks;
}

export function checkSizesAgainstWeights(config: ModelConfig, weights: WeightFile, configFile: string): void {
  const raw = readJsonObject(configFile, 'BAD_CONFIG');
  const weightsName = weights.describe(false);
  const refuse = (size: Sized, why: string): never => {
    const field = FIELD_NAMES[size].find((f) => raw[f] !== undefined) ?? FIELD_NAMES[size][0];
    throw new EngineError('BAD_CONFIG', `${configFile}: field "${field}" ${why}: config.json does not describe these weights (${weights.folder}).`, {
      remedies: ['choose-model'], details: { file: configFile, field },
    });
  };

  const seq2seq = 'numDecoderLayers' in config;
  const stacks = layerCounts(weights);
  const checkLayers = (size: 'numLayers' | 'numDecoderLayers', wanted: number, found: StackSize | undefined, stack: string) => {
    if (found && wanted > found.count) refuse(size, `is ${wanted}, but ${weightsName} holds ${found.count} ${stack}layer${found.count === 1 ? '' : 's'} (the last is ${found.last})`);
  };
  if (seq2seq) {
    checkLayers('numLayers', config.numLayers, stacks.main, 'encoder ');
    checkLayers('numDecoderLayers', config.numDecoderLayers, stacks.decoder, 'decoder ');
  } else {
    const all = [stacks.main, stacks.decoder].filter((s): s is StackSize => s !== undefined).sort((a, b) => b.count - a.count);
    checkLayers('numLayers', config.numLayers, all[0], '');
  }

  // Every size the model allocates by is some tensor's dimension, and no tensor is larger than its file.
  const largest = Math.max(0, ...weights.entries().flatMap((e) => e.shape));
  const sizes: [Sized, number][] = [
    ['vocabSize', config.vocabSize], ['hiddenSize', config.hiddenSize], ['intermediateSize', config.intermediateSize],
    ['headDim', config.headDim], ['numHeads', config.numHeads * config.headDim],
    ...('numKvHeads' in config ? [['numKvHeads', config.numKvHeads * config.headDim] as [Sized, number]] : []),
    ...(seq2seq ? [['decoderIntermediateSize', config.decoderIntermediateSize] as [Sized, number]] : []),
  ];
  for (const [size, value] of sizes) {
    if (value > largest) {
      const what = size === 'numHeads' || size === 'numKvHeads' ? `gives ${value} for heads × head_dim` : `is ${value}`;
      refuse(size, `${what}, but no tensor in ${weightsName} has a dimension that large (the largest is ${largest}; a tensor may be missing)`);
    }
  }
  if (seq2seq && config.decoderStartTokenId >= config.vocabSize) {
    refuse('decoderStartTokenId', `is ${config.decoderStartTokenId}, outside the vocabulary (vocab_size ${config.vocabSize}), so the decoder cannot start`);
  }
}
