/**
 * T5: RMS-style layer norms, no 1/√d scaling, and a relative position bias computed by each stack's
 * first layer and shared by all its layers (bidirectional buckets in the encoder, causal in the
 * decoder, none in cross-attention). Tied embeddings scale the decoder output by d_model^-0.5.
 */
import type { Backend, DeviceTensor } from '../backend';
import type { T5Config } from '../loader/seq2seqConfig';
import { HostTensor, concatRows, toFloat32 } from '../tensor';
import type { WeightFile } from '../loader/weights';
import type { LayerCache } from '../kvCache';
import type { ForwardWants } from '../model';
import { attendCross, attendFused } from './attention';
import { PerBackend, isTraced } from './common';
import { CrossKeys, Seq2SeqModel, Seq2SeqStacks } from './seq2seq';

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

interface T5Attention {
  qkv: DeviceTensor;
  q: DeviceTensor;
  kv: DeviceTensor;
  o: DeviceTensor;
}

interface T5FeedForward {
  wi: DeviceTensor;
  /** gated-gelu: the second input projection (wi_1); wi is then wi_0. */
  wiGate?: DeviceTensor;
  wo: DeviceTensor;
}

interface T5Layer {
  selfNorm: DeviceTensor;
  self: T5Attention;
  crossNorm?: DeviceTensor;
  cross?: T5Attention;
  ffNorm: DeviceTensor;
  ff: T5FeedForward;
}

export class T5Model extends Seq2SeqModel<T5Config> {
  protected readonly stacks: PerBackend<Seq2SeqStacks>;

  constructor(name: string, config: T5Config, file: WeightFile) {
    super(name, config);
    const c = config;
    const D = c.hiddenSize;
    const inner = c.numHeads * c.headDim;
    const attention = (p: string) => {
      const [q, k, v, o] = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}.weight`, [inner, D])).concat(file.get(`${p}.o.weight`, [D, inner]));
      return { qkv: concatRows([q, k, v]), q, kv: concatRows([k, v]), o };
    };
    const feedForward = (p: string, F: number) => c.gatedFeedForward
      ? { wi: file.get(`${p}.DenseReluDense.wi_0.weight`, [F, D]), wiGate: file.get(`${p}.DenseReluDense.wi_1.weight`, [F, D]), wo: file.get(`${p}.DenseReluDense.wo.weight`, [D, F]) }
      : { wi: file.get(`${p}.DenseReluDense.wi.weight`, [F, D]), wo: file.get(`${p}.DenseReluDense.wo.weight`, [D, F]) };
    const encoder = Array.from({ length: c.numLayers }, (_, l) => {
      const p = `encoder.block.${l}.layer`;
      return { selfNorm: file.get(`${p}.0.layer_norm.weight`, [D]), self: attention(`${p}.0.SelfAttention`), ffNorm: file.get(`${p}.1.layer_norm.weight`, [D]), ff: feedForward(`${p}.1`, c.intermediateSize) };
    });
    const decoder = Array.from({ length: c.numDecoderLayers }, (_, l) => {
      const p = `decoder.block.${l}.layer`;
      return {
        selfNorm: file.get(`${p}.0.layer_norm.weight`, [D]), self: attention(`${p}.0.SelfAttention`),
        crossNorm: file.get(`${p}.1.layer_norm.weight`, [D]), cross: attention(`${p}.1.EncDecAttention`),
        ffNorm: file.get(`${p}.2.layer_norm.weight`, [D]), ff: feedForward(`${p}.2`, c.decoderIntermediateSize),
      };
    });
    const shared = file.get('shared.weight', [c.vocabSize, D]);
    const lmHead = c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [c.vocabSize, D]);
    const bucketShape = [c.relativeBuckets, c.numHeads];
    const encoderTable = toFloat32(file.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', bucketShape));
    const decoderTable = toFloat32(file.get('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', bucketShape));
    const finalNorms = [file.get('encoder.final_layer_norm.weight', [D]), file.get('decoder.final_layer_norm.weight', [D])];
    this.stacks = new PerBackend((b) => {
      const u = (t: HostTensor) => b.upload(t);
      const upLayer = (l: (typeof decoder)[number] | (typeof encoder)[number]): T5Layer => ({
        selfNorm: u(l.selfNorm), self: upAttention(b, l.self), ffNorm: u(l.ffNorm),
        ff: { wi: u(l.ff.wi), wiGate: 'wiGate' in l.ff && l.ff.wiGate ? u(l.ff.wiGate) : undefined, wo: u(l.ff.wo) },
        ...('cross' in l ? { crossNorm: u(l.crossNorm), cross: upAttention(b, l.cross) } : {}),
      });
      const embedding = u(shared);
      return new T5Stacks(b, this, c, {
        embedding, lmHead: lmHead ? u(lmHead) : embedding,
        encoder: encoder.map(upLayer), decoder: decoder.map(upLayer),
        encoderNorm: u(finalNorms[0]), decoderNorm: u(finalNorms[1]), encoderTable, decoderTable,
      });
    });
  }

  /** Exposed to the stacks: the shared attention setup with T5's unit scale. */
  setup(causal: boolean, keepScores: boolean, bias?: DeviceTensor) {
    return this.attentionSetup('none', causal, keepScores, bias);
  }
}

function upAttention(b: Backend, a: { qkv: HostTensor; q: HostTensor; kv: HostTensor; o: HostTensor }): T5Attention {
  return { qkv: b.upload(a.qkv), q: b.upload(a.q), kv: b.upload(a.kv), o: b.upload(a.o) };
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
  /** The encoder's bias is the same for every layer of one forward pass: built once per length. */
  private encoderBias: DeviceTensor | undefined;

  constructor(private readonly b: Backend, private readonly model: T5Model, private readonly c: T5Config, private readonly w: T5Weights) {}

  private bias(table: Float32Array, queryLength: number, keyLength: number, offset: number, bidirectional: boolean): DeviceTensor {
    const c = this.c;
    const values = relativePositionBias(table, c.numHeads, queryLength, keyLength, offset, bidirectional, c.relativeBuckets, c.relativeMaxDistance);
    return this.b.fromFloat32(values, [c.numHeads, queryLength, keyLength]);
  }

  embedEncoder(ids: Int32Array): DeviceTensor {
    if (this.encoderBias) this.b.release([this.encoderBias]);
    this.encoderBias = this.bias(this.w.encoderTable, ids.length, ids.length, 0, true);
    return this.b.gather(this.w.embedding, ids);
  }

  private feedForward(layer: T5Layer, x: DeviceTensor): DeviceTensor {
    const b = this.b;
    const n = b.rmsNorm(x, layer.ffNorm, this.c.layerNormEps);
    let hidden: DeviceTensor;
    if (layer.ff.wiGate) {
      const gate = b.linear(n, layer.ff.wi);
      const up = b.linear(n, layer.ff.wiGate);
      hidden = b.gated(gate, up, this.c.activation);
      b.release([gate, up]);
    } else {
      hidden = b.linear(n, layer.ff.wi, { activation: this.c.activation });
    }
    const out = b.linear(hidden, layer.ff.wo, { residual: x });
    b.release([n, hidden]);
    return out;
  }

  encoderLayer(l: number, x: DeviceTensor, wants: ForwardWants) {
    const b = this.b;
    const layer = this.w.encoder[l];
    const n = b.rmsNorm(x, layer.selfNorm, this.c.layerNormEps);
    const qkv = b.linear(n, layer.self.qkv);
    const attention = attendFused(b, qkv, this.model.setup(false, !!wants.scores, this.encoderBias), undefined, isTraced(wants, 'encoder', l));
    const h = b.linear(attention.result.context, layer.self.o, { residual: x });
    const out = this.feedForward(layer, h);
    b.release([n, qkv, h]);
    return { out, attention };
  }

  finishEncoder(x: DeviceTensor): DeviceTensor {
    if (this.encoderBias) this.b.release([this.encoderBias]);
    this.encoderBias = undefined;
    return this.b.rmsNorm(x, this.w.encoderNorm, this.c.layerNormEps);
  }

  embedDecoder(ids: Int32Array): DeviceTensor {
    return this.b.gather(this.w.embedding, ids);
  }

  crossKeys(l: number, encoderOutput: DeviceTensor): CrossKeys {
    const kv = this.b.linear(encoderOutput, this.w.decoder[l].cross!.kv);
    const [k, v] = this.b.split(kv, [{ width: this.c.numHeads * this.c.headDim }, { width: this.c.numHeads * this.c.headDim }]);
    this.b.release([kv]);
    return { k, v };
  }

  decoderLayer(l: number, x: DeviceTensor, cross: CrossKeys, cache: LayerCache, offset: number, wants: ForwardWants) {
    const b = this.b;
    const c = this.c;
    const layer = this.w.decoder[l];
    const n = b.rmsNorm(x, layer.selfNorm, c.layerNormEps);
    const qkv = b.linear(n, layer.self.qkv);
    const keyLength = offset + x.shape[0];
    const bias = this.bias(this.w.decoderTable, x.shape[0], keyLength, offset, false);
    const selfAttention = attendFused(b, qkv, this.model.setup(true, !!wants.scores, bias), cache, isTraced(wants, 'decoder', l));
    const h = b.linear(selfAttention.result.context, layer.self.o, { residual: x });
    const cn = b.rmsNorm(h, layer.crossNorm!, c.layerNormEps);
    const q = b.linear(cn, layer.cross!.q);
    const crossAttention = attendCross(b, q, cross, this.model.setup(false, !!wants.scores), isTraced(wants, 'cross', l));
    const h2 = b.linear(crossAttention.result.context, layer.cross!.o, { residual: h });
    const out = this.feedForward(layer, h2);
    b.release([n, qkv, bias, h, cn, h2]);
    return { out, selfAttention, crossAttention };
  }

  finishDecoder(x: DeviceTensor): DeviceTensor {
    return this.b.rmsNorm(x, this.w.decoderNorm, this.c.layerNormEps);
  }

  logits(hidden: DeviceTensor): DeviceTensor {
    if (!this.c.scaleDecoderOutputs) return this.b.linear(hidden, this.w.lmHead);
    const scaled = this.b.scale(hidden, this.c.hiddenSize ** -0.5);
    const logits = this.b.linear(scaled, this.w.lmHead);
    this.b.release([scaled]);
    return logits;
  }
}
