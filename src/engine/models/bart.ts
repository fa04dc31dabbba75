/**
 * BART and Marian: post-LN encoder and decoder, learned positions at row position + 2 (BART) or
 * sinusoidal positions (Marian), layernorm_embedding (BART), optional √d embedding scale, and
 * final_logits_bias added to the tied LM head.
 */
import type { Backend, DeviceTensor } from '../backend';
import type { BartConfig } from '../loader/seq2seqConfig';
import { HostTensor, concatRows, f32Tensor } from '../tensor';
import type { WeightFile } from '../loader/weights';
import type { LayerCache } from '../kvCache';
import type { ForwardWants } from '../model';
import { attendCross, attendFused } from './attention';
import { PerBackend, isTraced, positions } from './common';
import { CrossKeys, Seq2SeqModel, Seq2SeqStacks } from './seq2seq';

type Norm = [DeviceTensor, DeviceTensor];

interface BartAttention {
  qkv: DeviceTensor;
  qkvBias: DeviceTensor;
  q: DeviceTensor;
  qBias: DeviceTensor;
  kv: DeviceTensor;
  kvBias: DeviceTensor;
  o: DeviceTensor;
  oBias: DeviceTensor;
}

interface BartLayer {
  self: BartAttention;
  selfNorm: Norm;
  cross?: BartAttention;
  crossNorm?: Norm;
  fc1: DeviceTensor;
  fc1Bias: DeviceTensor;
  fc2: DeviceTensor;
  fc2Bias: DeviceTensor;
  finalNorm: Norm;
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
    const norm = (p: string): [HostTensor, HostTensor] => [file.get(`${p}.weight`, [D]), file.get(`${p}.bias`, [D])];
    const attention = (p: string) => {
      const w = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}_proj.weight`, [D, D]));
      const bias = ['q', 'k', 'v'].map((n) => file.get(`${p}.${n}_proj.bias`, [D]));
      return {
        qkv: concatRows(w), qkvBias: concatRows(bias), q: w[0], qBias: bias[0],
        kv: concatRows(w.slice(1)), kvBias: concatRows(bias.slice(1)),
        o: file.get(`${p}.out_proj.weight`, [D, D]), oBias: file.get(`${p}.out_proj.bias`, [D]),
      };
    };
    const layer = (p: string, F: number, cross: boolean) => ({
      self: attention(`${p}.self_attn`), selfNorm: norm(`${p}.self_attn_layer_norm`),
      ...(cross ? { cross: attention(`${p}.encoder_attn`), crossNorm: norm(`${p}.encoder_attn_layer_norm`) } : {}),
      fc1: file.get(`${p}.fc1.weight`, [F, D]), fc1Bias: file.get(`${p}.fc1.bias`, [F]),
      fc2: file.get(`${p}.fc2.weight`, [D, F]), fc2Bias: file.get(`${p}.fc2.bias`, [D]),
      finalNorm: norm(`${p}.final_layer_norm`),
    });
    const encoder = Array.from({ length: c.numLayers }, (_, l) => layer(`${prefix}encoder.layers.${l}`, c.intermediateSize, false));
    const decoder = Array.from({ length: c.numDecoderLayers }, (_, l) => layer(`${prefix}decoder.layers.${l}`, c.decoderIntermediateSize, true));
    const shared = file.get(`${prefix}shared.weight`, [c.vocabSize, D]);
    const lmHead = c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [c.vocabSize, D]);
    const logitsBias = file.has('final_logits_bias') ? file.get('final_logits_bias', [1, c.vocabSize]) : f32Tensor([1, c.vocabSize]);
    const rows = c.maxPositions + c.positionOffset;
    const positionTable = (stack: string) => c.positions === 'learned'
      ? file.get(`${prefix}${stack}.embed_positions.weight`, [rows, D])
      : f32Tensor([rows, D], marianPositions(rows, D));
    const tables = [positionTable('encoder'), positionTable('decoder')];
    const embedNorms = c.layernormEmbedding ? [norm(`${prefix}encoder.layernorm_embedding`), norm(`${prefix}decoder.layernorm_embedding`)] : undefined;
    this.stacks = new PerBackend((b) => {
      const u = (t: HostTensor) => b.upload(t);
      const un = (n: [HostTensor, HostTensor]): Norm => [u(n[0]), u(n[1])];
      const ua = (a: ReturnType<typeof attention>): BartAttention => ({
        qkv: u(a.qkv), qkvBias: u(a.qkvBias), q: u(a.q), qBias: u(a.qBias), kv: u(a.kv), kvBias: u(a.kvBias), o: u(a.o), oBias: u(a.oBias),
      });
      const ul = (l: ReturnType<typeof layer>): BartLayer => ({
        self: ua(l.self), selfNorm: un(l.selfNorm),
        cross: l.cross && ua(l.cross), crossNorm: l.crossNorm && un(l.crossNorm),
        fc1: u(l.fc1), fc1Bias: u(l.fc1Bias), fc2: u(l.fc2), fc2Bias: u(l.fc2Bias), finalNorm: un(l.finalNorm),
      });
      const embedding = u(shared);
      return new BartStacks(b, this, c, {
        embedding, lmHead: lmHead ? u(lmHead) : embedding,
        logitsBias: b.upload({ ...logitsBias, shape: [c.vocabSize] }),
        encoderPositions: u(tables[0]), decoderPositions: u(tables[1]),
        encoderEmbedNorm: embedNorms && un(embedNorms[0]), decoderEmbedNorm: embedNorms && un(embedNorms[1]),
        encoder: encoder.map(ul), decoder: decoder.map(ul),
      });
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
    const tokens = b.gather(this.w.embedding, ids);
    const scaled = this.c.scaleEmbedding ? b.scale(tokens, Math.sqrt(this.c.hiddenSize)) : tokens;
    const places = b.gather(table, positions(ids.length, offset + this.c.positionOffset));
    const sum = b.add(scaled, places);
    b.release(scaled === tokens ? [tokens, places] : [tokens, scaled, places]);
    if (!embedNorm) return sum;
    const normed = b.layerNorm(sum, embedNorm[0], embedNorm[1], this.c.layerNormEps);
    b.release([sum]);
    return normed;
  }

  private feedForward(layer: BartLayer, x: DeviceTensor): DeviceTensor {
    const b = this.b;
    const hidden = b.linear(x, layer.fc1, { bias: layer.fc1Bias, activation: this.c.activation });
    const sum = b.linear(hidden, layer.fc2, { bias: layer.fc2Bias, residual: x });
    const out = b.layerNorm(sum, layer.finalNorm[0], layer.finalNorm[1], this.c.layerNormEps);
    b.release([hidden, sum]);
    return out;
  }

  embedEncoder(ids: Int32Array): DeviceTensor {
    return this.embed(ids, 0, this.w.encoderPositions, this.w.encoderEmbedNorm);
  }

  encoderLayer(l: number, x: DeviceTensor, wants: ForwardWants) {
    const b = this.b;
    const layer = this.w.encoder[l];
    const qkv = b.linear(x, layer.self.qkv, { bias: layer.self.qkvBias });
    const attention = attendFused(b, qkv, this.model.setup(false, !!wants.scores), undefined, isTraced(wants, 'encoder', l));
    const sum = b.linear(attention.result.context, layer.self.o, { bias: layer.self.oBias, residual: x });
    const h = b.layerNorm(sum, layer.selfNorm[0], layer.selfNorm[1], this.c.layerNormEps);
    const out = this.feedForward(layer, h);
    b.release([qkv, sum, h]);
    return { out, attention };
  }

  finishEncoder(x: DeviceTensor): DeviceTensor {
    return x;
  }

  embedDecoder(ids: Int32Array, offset: number): DeviceTensor {
    return this.embed(ids, offset, this.w.decoderPositions, this.w.decoderEmbedNorm);
  }

  crossKeys(l: number, encoderOutput: DeviceTensor): CrossKeys {
    const cross = this.w.decoder[l].cross!;
    const kv = this.b.linear(encoderOutput, cross.kv, { bias: cross.kvBias });
    const [k, v] = this.b.split(kv, [{ width: this.c.hiddenSize }, { width: this.c.hiddenSize }]);
    this.b.release([kv]);
    return { k, v };
  }

  decoderLayer(l: number, x: DeviceTensor, cross: CrossKeys, cache: LayerCache, _offset: number, wants: ForwardWants) {
    const b = this.b;
    const eps = this.c.layerNormEps;
    const layer = this.w.decoder[l];
    const qkv = b.linear(x, layer.self.qkv, { bias: layer.self.qkvBias });
    const selfAttention = attendFused(b, qkv, this.model.setup(true, !!wants.scores), cache, isTraced(wants, 'decoder', l));
    const sum = b.linear(selfAttention.result.context, layer.self.o, { bias: layer.self.oBias, residual: x });
    const h = b.layerNorm(sum, layer.selfNorm[0], layer.selfNorm[1], eps);
    const q = b.linear(h, layer.cross!.q, { bias: layer.cross!.qBias });
    const crossAttention = attendCross(b, q, cross, this.model.setup(false, !!wants.scores), isTraced(wants, 'cross', l));
    const crossSum = b.linear(crossAttention.result.context, layer.cross!.o, { bias: layer.cross!.oBias, residual: h });
    const h2 = b.layerNorm(crossSum, layer.crossNorm![0], layer.crossNorm![1], eps);
    const out = this.feedForward(layer, h2);
    b.release([qkv, sum, h, crossSum, h2]);
    return { out, selfAttention, crossAttention };
  }

  finishDecoder(x: DeviceTensor): DeviceTensor {
    return x;
  }

  logits(hidden: DeviceTensor): DeviceTensor {
    return this.b.linear(hidden, this.w.lmHead, { bias: this.w.logitsBias });
  }
}
