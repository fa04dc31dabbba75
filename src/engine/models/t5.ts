/**
 * T5: RMS-style layer norms, no 1/√d scaling, and a relative position bias computed by each stack's
 * first layer and shared by all its layers (bidirectional buckets in the encoder, causal in the
 * decoder, none in cross-attention). Tied embeddings scale the decoder output by d_model^-0.5.
 */
import type { Backend, DeviceTensor } from '../backend';
import type { T5Config } from '../loader/seq2seqConfig';
import { LazyTensor, concatRows, toFloat32 } from '../tensor';
import type { WeightFile } from '../loader/weights';
import type { LayerCache } from '../kvCache';
import type { ForwardWants } from '../model';
import { attendCross, attendFused, tensorScope, withValueNorms } from './attention';
import { PerBackend, isTraced } from './common';
import { CrossKeys, EncoderInput, Seq2SeqModel, Seq2SeqStacks } from './seq2seq';

/** transformers' _relative_position_bucket for one (key − query) distance. */
function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let bucket = 0;
  let buckets = numBuckets;
  let distance: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (relative > 0) bucket += buckets;
    distance = Math.abs(relative);
  } else {
    distance = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (distance < maxExact) return bucket + distance;
  const f = Math.fround;
  // float32 as in transformers (identical buckets to float64 far beyond any input here).
  const large = maxExact + Math.trunc(f(f(f(Math.log(f(distance / maxExact))) / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact)));
  return bucket + Math.min(large, buckets - 1);
}

/** The [heads, Tq, Tk] bias for queries at positions offset … offset+Tq−1 over keys 0 … Tk−1. */
function relativePositionBias(table: Float32Array, numHeads: number, queryLength: number, keyLength: number, offset: number, bidirectional: boolean, numBuckets: number, maxDistance: number): Float32Array {
  const out = new Float32Array(numHeads * queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) {
      const bucket = relativePositionBucket(j - (i + offset), bidirectional, numBuckets, maxDistance);
      for (let h = 0; h < numHeads; h++) out[(h * queryLength + i) * keyLength + j] = table[bucket * numHeads + h];
    }
  }
  return out;
}

/** `T`: LazyTensor as read from the checkpoint, DeviceTensor once uploaded. */
interface T5Attention<T = DeviceTensor> {
  qkv: T;
  q: T;
  kv: T;
  o: T;
}

interface T5FeedForward<T = DeviceTensor> {
  wi: T;
  /** gated-gelu: the second input projection (wi_1); wi is then wi_0. */
  wiGate?: T;
  wo: T;
}

interface T5Layer<T = DeviceTensor> {
  selfNorm: T;
  self: T5Attention<T>;
  crossNorm?: T;
  cross?: T5Attention<T>;
  ffNorm: T;
  ff: T5FeedForward<T>;
}

export class T5Model extends Seq2SeqModel<T5Config> {
  protected readonly stacks: PerBackend<Seq2SeqStacks>;

  constructor(name: string, config: T5Config, file: WeightFile) {
    super(name, config);
    const c = config;
    const D = c.hiddenSize;
    const inner = c.numHeads * c.headDim;
    const attention = (p: string): T5Attention<LazyTensor> => {
      const [q, k, v] = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}.weight`, [inner, D]));
      return { qkv: LazyTensor.join([q, k, v], concatRows), q, kv: LazyTensor.join([k, v], concatRows), o: file.get(`${p}.o.weight`, [D, inner]) };
    };
    const feedForward = (p: string, F: number): T5FeedForward<LazyTensor> => c.gatedFeedForward
      ? { wi: file.get(`${p}.DenseReluDense.wi_0.weight`, [F, D]), wiGate: file.get(`${p}.DenseReluDense.wi_1.weight`, [F, D]), wo: file.get(`${p}.DenseReluDense.wo.weight`, [D, F]) }
      : { wi: file.get(`${p}.DenseReluDense.wi.weight`, [F, D]), wo: file.get(`${p}.DenseReluDense.wo.weight`, [D, F]) };
    const encoder = Array.from({ length: c.numLayers }, (_, l): T5Layer<LazyTensor> => {
      const p = `encoder.block.${l}.layer`;
      return { selfNorm: file.get(`${p}.0.layer_norm.weight`, [D]), self: attention(`${p}.0.SelfAttention`), ffNorm: file.get(`${p}.1.layer_norm.weight`, [D]), ff: feedForward(`${p}.1`, c.intermediateSize) };
    });
    const decoder = Array.from({ length: c.numDecoderLayers }, (_, l): T5Layer<LazyTensor> => {
      const p = `decoder.block.${l}.layer`;
      return {
        selfNorm: file.get(`${p}.0.layer_norm.weight`, [D]), self: attention(`${p}.0.SelfAttention`),
        crossNorm: file.get(`${p}.1.layer_norm.weight`, [D]), cross: attention(`${p}.1.EncDecAttention`),
        ffNorm: file.get(`${p}.2.layer_norm.weight`, [D]), ff: feedForward(`${p}.2`, c.decoderIntermediateSize),
      };
    });
    const weights = {
      embedding: file.get('shared.weight', [c.vocabSize, D]),
      lmHead: c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [c.vocabSize, D]),
      encoder, decoder,
      encoderNorm: file.get('encoder.final_layer_norm.weight', [D]), decoderNorm: file.get('decoder.final_layer_norm.weight', [D]),
    };
    // The bias tables are small and read on the host at every forward pass: read now and kept.
    const bucketShape = [c.relativeBuckets, c.numHeads];
    const encoderTable = toFloat32(file.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', bucketShape).read());
    const decoderTable = toFloat32(file.get('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', bucketShape).read());
    this.stacks = new PerBackend((to) => {
      const w = to.tree(weights);
      return new T5Stacks(to.backend, this, c, { ...w, lmHead: w.lmHead ?? w.embedding, encoderTable, decoderTable });
    });
  }

  /** Exposed to the stacks: the shared attention setup with T5's unit scale. */
  setup(causal: boolean, keepScores: boolean, bias?: DeviceTensor) {
    return this.attentionSetup('none', causal, keepScores, bias);
  }
}

interface T5Weights {
  embedding: DeviceTensor;
  lmHead: DeviceTensor;
  encoder: T5Layer[];
  decoder: T5Layer[];
  encoderNorm: DeviceTensor;
  decoderNorm: DeviceTensor;
  encoderTable: Float32Array;
  decoderTable: Float32Array;
}

class T5Stacks implements Seq2SeqStacks {
  constructor(private readonly b: Backend, private readonly model: T5Model, private readonly c: T5Config, private readonly w: T5Weights) {}

  private bias(table: Float32Array, queryLength: number, keyLength: number, offset: number, bidirectional: boolean): DeviceTensor {
    const c = this.c;
    const values = relativePositionBias(table, c.numHeads, queryLength, keyLength, offset, bidirectional, c.relativeBuckets, c.relativeMaxDistance);
    return this.b.fromFloat32(values, [c.numHeads, queryLength, keyLength]);
  }

  /** The encoder's bias is the same for every layer of one forward pass: built once per input. */
  embedEncoder(ids: Int32Array): EncoderInput {
    const positionBias = this.bias(this.w.encoderTable, ids.length, ids.length, 0, true);
    try {
      return { x: this.b.gather(this.w.embedding, ids), positionBias };
    } catch (err) {
      this.b.release([positionBias]);
      throw err;
    }
  }

  private feedForward(layer: T5Layer, x: DeviceTensor): DeviceTensor {
    const b = this.b;
    return tensorScope(b, ({ temp }) => {
      const n = temp(b.rmsNorm(x, layer.ffNorm, this.c.layerNormEps));
      const hidden = layer.ff.wiGate
        ? b.gated(temp(b.linear(n, layer.ff.wi)), temp(b.linear(n, layer.ff.wiGate)), this.c.activation)
        : b.linear(n, layer.ff.wi, { activation: this.c.activation });
      return b.linear(temp(hidden), layer.ff.wo, { residual: x });
    });
  }

  encoderLayer(l: number, x: DeviceTensor, wants: ForwardWants, positionBias?: DeviceTensor) {
    const b = this.b;
    const layer = this.w.encoder[l];
    return tensorScope(b, ({ temp, attention: hold }) => {
      const qkv = temp(b.linear(temp(b.rmsNorm(x, layer.selfNorm, this.c.layerNormEps)), layer.self.qkv));
      const attention = hold(withValueNorms(b, attendFused(b, qkv, this.model.setup(false, !!wants.scores, positionBias), undefined, isTraced(wants, 'encoder', l)), layer.self.o, wants));
      const h = temp(b.linear(attention.result.context, layer.self.o, { residual: x }));
      return { out: this.feedForward(layer, h), attention };
    });
  }

  finishEncoder(x: DeviceTensor): DeviceTensor {
    return this.b.rmsNorm(x, this.w.encoderNorm, this.c.layerNormEps);
  }

  embedDecoder(ids: Int32Array): DeviceTensor {
    return this.b.gather(this.w.embedding, ids);
  }

  crossKeys(l: number, encoderOutput: DeviceTensor): CrossKeys {
    const width = this.c.numHeads * this.c.headDim;
    return tensorScope(this.b, ({ temp }) => {
      const [k, v] = this.b.split(temp(this.b.linear(encoderOutput, this.w.decoder[l].cross!.kv)), [{ width }, { width }]);
      return { k, v };
    });
  }

  decoderLayer(l: number, x: DeviceTensor, cross: CrossKeys, cache: LayerCache, offset: number, wants: ForwardWants) {
    const b = this.b;
    const c = this.c;
    const layer = this.w.decoder[l];
    return tensorScope(b, ({ temp, attention: hold }) => {
      const qkv = temp(b.linear(temp(b.rmsNorm(x, layer.selfNorm, c.layerNormEps)), layer.self.qkv));
      const bias = temp(this.bias(this.w.decoderTable, x.shape[0], offset + x.shape[0], offset, false));
      const selfAttention = hold(withValueNorms(b, attendFused(b, qkv, this.model.setup(true, !!wants.scores, bias), cache, isTraced(wants, 'decoder', l)), layer.self.o, wants));
      const h = temp(b.linear(selfAttention.result.context, layer.self.o, { residual: x }));
      const q = b.linear(temp(b.rmsNorm(h, layer.crossNorm!, c.layerNormEps)), layer.cross!.q);
      const crossAttention = hold(withValueNorms(b, attendCross(b, q, cross, this.model.setup(false, !!wants.scores), isTraced(wants, 'cross', l)), layer.cross!.o, wants));
      const h2 = temp(b.linear(crossAttention.result.context, layer.cross!.o, { residual: h }));
      return { out: this.feedForward(layer, h2), selfAttention, crossAttention };
    });
  }

  finishDecoder(x: DeviceTensor): DeviceTensor {
    return this.b.rmsNorm(x, this.w.decoderNorm, this.c.layerNormEps);
  }

  logits(hidden: DeviceTensor): DeviceTensor {
    if (!this.c.scaleDecoderOutputs) return this.b.linear(hidden, this.w.lmHead);
    return tensorScope(this.b, ({ temp }) => this.b.linear(temp(this.b.scale(hidden, this.c.hiddenSize ** -0.5)), this.w.lmHead));
  }
}
