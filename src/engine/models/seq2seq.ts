/**
 * The encoder-decoder forward pass shared by T5 and BART/Marian: the encoder stack, then the decoder
 * stack with masked self-attention and cross-attention over the encoder output. Each family supplies
 * its layers; this class owns the loop, the streaming and the key/value cache for stepping.
 */
import type { AttentionOptions, Backend, DeviceTensor } from '../backend';
import type { Seq2SeqConfig } from '../loader/seq2seqConfig';
import type { ForwardEvent, ForwardRequest, ForwardWants, TransformerModel } from '../model';
import type { AttentionRecipe, ModelInfo } from '../../protocol/run';
import { KvCache, type LayerCache } from '../kvCache';
import { ProjectedAttention, attentionSetup, releaseAttention, type AttentionSetup } from './attention';
import { PerBackend, checkIds, readHidden, readLayer, readLogits, streamLayers, throwIfAborted } from './common';
import { EngineError } from '../errors';
import { readLens } from './lens';

export interface CrossKeys {
  readonly k: DeviceTensor;
  readonly v: DeviceTensor;
}

export interface LayerOutput {
  readonly out: DeviceTensor;
  readonly attention: ProjectedAttention;
}

export interface DecoderLayerOutput {
  readonly out: DeviceTensor;
  readonly selfAttention: ProjectedAttention;
  readonly crossAttention: ProjectedAttention;
}

/** The encoder's input: its embeddings, and what every encoder layer adds to its scores for this input (T5's position bias). */
export interface EncoderInput {
  readonly x: DeviceTensor;
  readonly positionBias?: DeviceTensor;
}

/**
 * One family's layers on one backend. Every method returns new tensors; inputs stay owned by the caller.
 * `wants` says whether scores are kept and which layer is traced (isTraced).
 */
export interface Seq2SeqStacks {
  embedEncoder(ids: Int32Array): EncoderInput;
  encoderLayer(layer: number, x: DeviceTensor, wants: ForwardWants, positionBias?: DeviceTensor): LayerOutput;
  /** Final norm (T5) or the input itself (BART). */
  finishEncoder(x: DeviceTensor): DeviceTensor;
  /** Decoder embeddings for ids starting at position `offset`. */
  embedDecoder(ids: Int32Array, offset: number): DeviceTensor;
  crossKeys(layer: number, encoderOutput: DeviceTensor): CrossKeys;
  decoderLayer(layer: number, x: DeviceTensor, cross: CrossKeys, cache: LayerCache, offset: number, wants: ForwardWants): DecoderLayerOutput;
  /** Final norm (T5) or the input itself (BART): the last decoder hidden state. */
  finishDecoder(x: DeviceTensor): DeviceTensor;
  logits(hidden: DeviceTensor): DeviceTensor;
}

export abstract class Seq2SeqModel<C extends Seq2SeqConfig> implements TransformerModel {
  readonly info: ModelInfo;
  protected abstract readonly stacks: PerBackend<Seq2SeqStacks>;

  constructor(name: string, protected readonly config: C) {
    this.info = {
      name, modelType: config.modelType, kind: 'encoder-decoder', causal: false, untrained: false, crossAttention: true,
      numLayers: config.numLayers, numHeads: config.numHeads, numKvHeads: config.numHeads, headDim: config.headDim,
      hiddenSize: config.hiddenSize, vocabSize: config.vocabSize, maxPositions: config.maxPositions,
      decoderStartTokenId: config.decoderStartTokenId, eosTokenIds: config.eosTokenIds,
    };
  }

  releaseWeights(): void {
    this.stacks.release();
  }

  /** The setup of one attention: T5 has no scaling (scale 1) and a relative position bias, BART head_dim^-0.5. */
  protected attentionSetup(scaleSource: AttentionRecipe['scaleSource'], causal: boolean, keepScores: boolean, positionBias?: DeviceTensor): AttentionSetup {
    const c = this.config;
    const scale = scaleSource === 'none' ? 1 : 1 / Math.sqrt(c.headDim);
    const options: AttentionOptions = { numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim, scale, causal, keepScores, positionBias };
    return attentionSetup(options, { scaleSource });
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const c = this.config;
    const s = this.stacks.get(backend);
    const { wants, signal, step } = request;
    if (!request.decoderIds) throw new EngineError('BAD_INPUT', `${this.info.name} is an encoder-decoder model: give a target (text, ids, or generate one).`);
    // Without a cache (teacher forcing) the cache lives for this call only.
    const cache = request.cache ?? new KvCache(backend);
    let x: DeviceTensor | undefined;
    // Cancelled, failed or finished: whatever the pass still holds is released.
    try {
      if (!cache.cross) {
        const encoderOutput = yield* this.encode(backend, s, checkIds(request.ids, c.vocabSize, c.maxPositions, 'source'), request);
        try {
          cache.cross = [];
          for (let l = 0; l < c.numDecoderLayers; l++) cache.cross.push(s.crossKeys(l, encoderOutput));
        } finally {
          backend.release([encoderOutput]);
        }
      }
      const offset = cache.length;
      const decoderIds = checkIds(request.decoderIds, c.vocabSize, c.maxPositions, 'target', offset);
      x = s.embedDecoder(decoderIds, offset);
      if (wants.hiddenStates) yield await readHidden(backend, 'decoder', 0, x);
      // The logit lens: the decoder's final norm (T5) and LM head on each of its hidden states.
      const top = wants.logitLens?.top;
      const lensHead = (hidden: DeviceTensor) => {
        const final = s.finishDecoder(hidden);
        try {
          return s.logits(final);
        } finally {
          if (final !== hidden) backend.release([final]);
        }
      };
      if (top) yield await readLens(backend, 'decoder', 0, x, lensHead, top, step);
      for (let l = 0; l < c.numDecoderLayers; l++) {
        throwIfAborted(signal);
        const { out, selfAttention, crossAttention } = s.decoderLayer(l, x, cache.cross[l], cache.layer(l), offset, wants);
        backend.release([x]);
        x = out;
        try {
          yield* await readLayer(backend, 'decoder', l, selfAttention, wants, undefined, step);
          const last = l === c.numDecoderLayers - 1;
          yield* await readLayer(backend, 'cross', l, crossAttention, wants, last ? undefined : { stack: 'decoder', index: l + 1, tensor: x }, step);
        } finally {
          releaseAttention(backend, selfAttention);
          releaseAttention(backend, crossAttention);
        }
        if (top) yield await readLens(backend, 'decoder', l + 1, x, lensHead, top, step);
      }
      cache.length += decoderIds.length;
      const final = s.finishDecoder(x);
      backend.release(final === x ? [] : [x]);
      x = final;
      if (wants.hiddenStates) yield await readHidden(backend, 'decoder', c.numDecoderLayers, final);
      if (wants.logits) {
        const logits = s.logits(final);
        try {
          yield await readLogits(backend, logits, step);
        } finally {
          backend.release([logits]);
        }
      }
    } finally {
      if (x) backend.release([x]);
      if (!request.cache) cache.release();
    }
  }

  /** Runs the encoder; its output goes to the caller, everything else is released however the pass ends. */
  private async *encode(backend: Backend, s: Seq2SeqStacks, ids: Int32Array, request: ForwardRequest): AsyncGenerator<ForwardEvent, DeviceTensor> {
    const c = this.config;
    const input = s.embedEncoder(ids);
    let final: DeviceTensor | undefined;
    let handedOver = false;
    try {
      const layers = { attention: 'encoder', hidden: 'encoder', layers: c.numLayers } as const;
      const out = yield* streamLayers(backend, layers, input.x, (l, x) => s.encoderLayer(l, x, request.wants, input.positionBias), request);
      try {
        final = s.finishEncoder(out);
      } finally {
        if (final !== out) backend.release([out]);
      }
      if (request.wants.hiddenStates) yield await readHidden(backend, 'encoder', c.numLayers, final);
      handedOver = true;
      return final;
    } finally {
      if (final && !handedOver) backend.release([final]);
      if (input.positionBias) backend.release([input.positionBias]);
    }
  }
}
