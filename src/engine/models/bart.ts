/**
 * BART and Marian: post-LN encoder and decoder, learned positions at row position + 2 (BART) or
 * sinusoidal positions (Marian), layernorm_embedding (BART), optional √d embedding scale, and
 * final_logits_bias added to the tied LM head.
 */
import type { Backend, DeviceTensor } from '../backend';
import type { BartConfig } from '../loader/seq2seqConfig';
import { LazyTensor, concatRows, f32Tensor } from '../tensor';
import type { WeightFile } from '../loader/weights';
import type { LayerCache } from '../kvCache';
import type { ForwardWants } from '../model';
import { attendCross, attendFused, tensorScope, withValueNorms } from './attention';
import { PerBackend, isTraced, positions } from './common';
import { CrossKeys, EncoderInput, Seq2SeqModel, Seq2SeqStacks } from './seq2seq';

/** `T`: LazyTensor as read from the checkpoint, DeviceTensor once uploaded. */
type Norm<T = DeviceTensor> = [T, T];

interface BartAttention<T = DeviceTensor> {
  qkv: T;
  qkvBias: T;
  q: T;
  qBias: T;
  kv: T;
  kvBias: T;
  o: T;
  oBias: T;
}

interface BartLayer<T = DeviceTensor> {
  self: BartAttention<T>;
  selfNorm: Norm<T>;
  cross?: BartAttention<T>;
  crossNorm?: Norm<T>;
  fc1: T;
  fc1Bias: T;
  fc2: T;
  fc2Bias: T;
  finalNorm: Norm<T>;
}

interface BartWeights {
  embedding: DeviceTensor;
  lmHead: DeviceTensor;
  logitsBias: DeviceTensor;
  encoderPositions: DeviceTensor;
  decoderPositions: DeviceTensor;
  encoderEmbedNorm?: Norm;
  decoderEmbedNorm?: Norm;
  encoder: BartLayer[];
  decoder: BartLayer[];
}

/** Marian's table: sin of every angle in the first half of the row, cos in the second. */
function marianPositions(count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  const half = Math.ceil(dim / 2);
  for (let pos = 0; pos < count; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = pos / Math.pow(10000, (2 * j) / dim);
      out[pos * dim + j] = Math.sin(angle);
      if (half + j < dim) out[pos * dim + half + j] = Math.cos(angle);
    }
  }
  return out;
}

export class BartModel extends Seq2SeqModel<BartConfig> {
  protected readonly stacks: PerBackend<Seq2SeqStacks>;

  constructor(name: string, config: BartConfig, file: WeightFile) {
    super(name, config);
    const c = config;
    const D = c.hiddenSize;
    const prefix = file.has('model.shared.weight') ? 'model.' : '';
    const norm = (p: string): Norm<LazyTensor> => [file.get(`${p}.weight`, [D]), file.get(`${p}.bias`, [D])];
    const attention = (p: string): BartAttention<LazyTensor> => {
      const w = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}_proj.weight`, [D, D]));
      const bias = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}_proj.bias`, [D]));
      return {
        qkv: LazyTensor.join(w, concatRows), qkvBias: LazyTensor.join(bias, concatRows), q: w[0], qBias: bias[0],
        kv: LazyTensor.join(w.slice(1), concatRows), kvBias: LazyTensor.join(bias.slice(1), concatRows),
        o: file.get(`${p}.out_proj.weight`, [D, D]), oBias: file.get(`${p}.out_proj.bias`, [D]),
      };
    };
    const layer = (p: string, F: number, cross: boolean): BartLayer<LazyTensor> => ({
      self: attention(`${p}.self_attn`), selfNorm: norm(`${p}.self_attn_layer_norm`),
      ...(cross ? { cross: attention(`${p}.encoder_attn`), crossNorm: norm(`${p}.encoder_attn_layer_norm`) } : {}),
      fc1: file.get(`${p}.fc1.weight`, [F, D]), fc1Bias: file.get(`${p}.fc1.bias`, [F]),
      fc2: file.get(`${p}.fc2.weight`, [D, F]), fc2Bias: file.get(`${p}.fc2.bias`, [D]),
      finalNorm: norm(`${p}.final_layer_norm`),
    });
    const V = c.vocabSize;
    const rows = c.maxPositions + c.positionOffset;
    const positionTable = (stack: string) => c.positions === 'learned'
      ? file.get(`${prefix}${stack}.embed_positions.weight`, [rows, D])
      : new LazyTensor(() => f32Tensor([rows, D], marianPositions(rows, D)));
    const weights = {
      embedding: file.get(`${prefix}shared.weight`, [V, D]),
      lmHead: c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [V, D]),
      logitsBias: (file.has('final_logits_bias') ? file.get('final_logits_bias', [1, V]) : new LazyTensor(() => f32Tensor([1, V])))
        .map((t) => ({ ...t, shape: [V] })),
      encoderPositions: positionTable('encoder'), decoderPositions: positionTable('decoder'),
      encoderEmbedNorm: c.layernormEmbedding ? norm(`${prefix}encoder.layernorm_embedding`) : undefined,
      decoderEmbedNorm: c.layernormEmbedding ? norm(`${prefix}decoder.layernorm_embedding`) : undefined,
      encoder: Array.from({ length: c.numLayers }, (_, l) => layer(`${prefix}encoder.layers.${l}`, c.intermediateSize, false)),
      decoder: Array.from({ length: c.numDecoderLayers }, (_, l) => layer(`${prefix}decoder.layers.${l}`, c.decoderIntermediateSize, true)),
    };
    this.stacks = new PerBackend((to) => {
      const w = to.tree(weights);
      return new BartStacks(to.backend, this, c, { ...w, lmHead: w.lmHead ?? w.embedding });
    });
  }

  setup(causal: boolean, keepScores: boolean) {
    return this.attentionSetup('head_dim', causal, keepScores);
  }
}

class BartStacks implements Seq2SeqStacks {
  constructor(private readonly b: Backend, private readonly model: BartModel, private readonly c: BartConfig, private readonly w: BartWeights) {}

  private embed(ids: Int32Array, offset: number, table: DeviceTensor, embedNorm: Norm | undefined): DeviceTensor {
    const b = this.b;
    return tensorScope(b, ({ temp }) => {
      const tokens = temp(b.gather(this.w.embedding, ids));
      const scaled = this.c.scaleEmbedding ? temp(b.scale(tokens, Math.sqrt(this.c.hiddenSize))) : tokens;
      const sum = b.add(scaled, temp(b.gather(table, positions(ids.length, offset + this.c.positionOffset))));
      return embedNorm ? b.layerNorm(temp(sum), embedNorm[0], embedNorm[1], this.c.layerNormEps) : sum;
    });
  }

  private feedForward(layer: BartLayer, x: DeviceTensor): DeviceTensor {
    const b = this.b;
    return tensorScope(b, ({ temp }) => {
      const hidden = temp(b.linear(x, layer.fc1, { bias: layer.fc1Bias, activation: this.c.activation }));
      const sum = temp(b.linear(hidden, layer.fc2, { bias: layer.fc2Bias, residual: x }));
      return b.layerNorm(sum, layer.finalNorm[0], layer.finalNorm[1], this.c.layerNormEps);
    });
  }

  embedEncoder(ids: Int32Array): EncoderInput {
    return { x: this.embed(ids, 0, this.w.encoderPositions, this.w.encoderEmbedNorm) };
  }

  encoderLayer(l: number, x: DeviceTensor, wants: ForwardWants) {
    const b = this.b;
    const layer = this.w.encoder[l];
    return tensorScope(b, ({ temp, attention: hold }) => {
      const qkv = temp(b.linear(x, layer.self.qkv, { bias: layer.self.qkvBias }));
      const attention = hold(withValueNorms(b, attendFused(b, qkv, this.model.setup(false, !!wants.scores), undefined, isTraced(wants, 'encoder', l)), layer.self.o, wants));
      const sum = temp(b.linear(attention.result.context, layer.self.o, { bias: layer.self.oBias, residual: x }));
      const h = temp(b.layerNorm(sum, layer.selfNorm[0], layer.selfNorm[1], this.c.layerNormEps));
      return { out: this.feedForward(layer, h), attention };
    });
  }

  finishEncoder(x: DeviceTensor): DeviceTensor {
    return x;
  }

  embedDecoder(ids: Int32Array, offset: number): DeviceTensor {
    return this.embed(ids, offset, this.w.decoderPositions, this.w.decoderEmbedNorm);
  }

  crossKeys(l: number, encoderOutput: DeviceTensor): CrossKeys {
    const cross = this.w.decoder[l].cross!;
    const width = this.c.hiddenSize;
    return tensorScope(this.b, ({ temp }) => {
      const [k, v] = this.b.split(temp(this.b.linear(encoderOutput, cross.kv, { bias: cross.kvBias })), [{ width }, { width }]);
      return { k, v };
    });
  }

  decoderLayer(l: number, x: DeviceTensor, cross: CrossKeys, cache: LayerCache, _offset: number, wants: ForwardWants) {
    const b = this.b;
    const eps = this.c.layerNormEps;
    const layer = this.w.decoder[l];
    return tensorScope(b, ({ temp, attention: hold }) => {
      const qkv = temp(b.linear(x, layer.self.qkv, { bias: layer.self.qkvBias }));
      const selfAttention = hold(withValueNorms(b, attendFused(b, qkv, this.model.setup(true, !!wants.scores), cache, isTraced(wants, 'decoder', l)), layer.self.o, wants));
      const sum = temp(b.linear(selfAttention.result.context, layer.self.o, { bias: layer.self.oBias, residual: x }));
      const h = temp(b.layerNorm(sum, layer.selfNorm[0], layer.selfNorm[1], eps));
      const q = b.linear(h, layer.cross!.q, { bias: layer.cross!.qBias });
      const crossAttention = hold(withValueNorms(b, attendCross(b, q, cross, this.model.setup(false, !!wants.scores), isTraced(wants, 'cross', l)), layer.cross!.o, wants));
      const crossSum = temp(b.linear(crossAttention.result.context, layer.cross!.o, { bias: layer.cross!.oBias, residual: h }));
      const h2 = temp(b.layerNorm(crossSum, layer.crossNorm![0], layer.crossNorm![1], eps));
      return { out: this.feedForward(layer, h2), selfAttention, crossAttention };
    });
  }

  finishDecoder(x: DeviceTensor): DeviceTensor {
    return x;
  }

  logits(hidden: DeviceTensor): DeviceTensor {
    return this.b.linear(hidden, this.w.lmHead, { bias: this.w.logitsBias });
  }
}
