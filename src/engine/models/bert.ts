/** BERT: bidirectional encoder, post-LN, word + position + token-type embeddings, optional MLM head. */
import type { Backend, DeviceTensor } from '../backend';
import type { BertConfig } from '../loader/config';
import type { ForwardEvent, ForwardRequest, ForwardWants, TransformerModel } from '../model';
import type { ModelInfo } from '../../protocol/run';
import { EngineError } from '../errors';
import { LazyTensor, concatRows } from '../tensor';
import type { WeightFile } from '../loader/weights';
import { type AttentionSetup, attendFused, attentionSetup, tensorScope, withValueNorms } from './attention';
import { PerBackend, checkIds, isTraced, positions, readLogits, streamLayers } from './common';

type Norm = [DeviceTensor, DeviceTensor];

interface BertLayer {
  qkv: DeviceTensor;
  qkvBias: DeviceTensor;
  attnOut: DeviceTensor;
  attnOutBias: DeviceTensor;
  attnNorm: Norm;
  inter: DeviceTensor;
  interBias: DeviceTensor;
  out: DeviceTensor;
  outBias: DeviceTensor;
  outNorm: Norm;
}

interface BertWeights {
  word: DeviceTensor;
  position: DeviceTensor;
  tokenType: DeviceTensor;
  embedNorm: Norm;
  layers: BertLayer[];
  head?: { dense: DeviceTensor; denseBias: DeviceTensor; norm: Norm; decoder: DeviceTensor; bias: DeviceTensor };
}

export class BertModel implements TransformerModel {
  readonly info: ModelInfo;
  private readonly weights: PerBackend<BertWeights>;

  constructor(name: string, private readonly config: BertConfig, file: WeightFile) {
    const c = config;
    this.info = {
      name, modelType: 'bert', kind: 'encoder-only', causal: false, untrained: false, crossAttention: false, eosTokenIds: config.eosTokenIds,
      numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim,
      hiddenSize: c.hiddenSize, vocabSize: c.vocabSize, maxPositions: c.maxPositions,
    };
    const prefix = file.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
    const { hiddenSize: D, intermediateSize: F, vocabSize: V } = c;
    const norm = (p: string): [LazyTensor, LazyTensor] => [file.get(`${p}.weight`, [D]), file.get(`${p}.bias`, [D])];
    const e = `${prefix}embeddings.`;
    const host = {
      word: file.get(`${e}word_embeddings.weight`, [V, D]),
      position: file.get(`${e}position_embeddings.weight`, [c.maxPositions, D]),
      tokenType: file.get(`${e}token_type_embeddings.weight`, [c.typeVocabSize, D]),
      embedNorm: norm(`${e}LayerNorm`),
      layers: Array.from({ length: c.numLayers }, (_, l) => {
        const p = `${prefix}encoder.layer.${l}.`;
        const s = `${p}attention.self.`;
        return {
          qkv: LazyTensor.join(['query', 'key', 'value'].map((n) => file.get(`${s}${n}.weight`, [D, D])), concatRows),
          qkvBias: LazyTensor.join(['query', 'key', 'value'].map((n) => file.get(`${s}${n}.bias`, [D])), concatRows),
          attnOut: file.get(`${p}attention.output.dense.weight`, [D, D]),
          attnOutBias: file.get(`${p}attention.output.dense.bias`, [D]),
          attnNorm: norm(`${p}attention.output.LayerNorm`),
          inter: file.get(`${p}intermediate.dense.weight`, [F, D]),
          interBias: file.get(`${p}intermediate.dense.bias`, [F]),
          out: file.get(`${p}output.dense.weight`, [D, F]),
          outBias: file.get(`${p}output.dense.bias`, [D]),
          outNorm: norm(`${p}output.LayerNorm`),
        };
      }),
      // The masked-LM head is absent from plain BertModel checkpoints; then there are no logits.
      head: file.has('cls.predictions.transform.dense.weight')
        ? {
          dense: file.get('cls.predictions.transform.dense.weight', [D, D]),
          denseBias: file.get('cls.predictions.transform.dense.bias', [D]),
          norm: norm('cls.predictions.transform.LayerNorm'),
          decoder: file.has('cls.predictions.decoder.weight') && !c.tieWordEmbeddings ? file.get('cls.predictions.decoder.weight', [V, D]) : undefined,
          bias: file.get('cls.predictions.bias', [V]),
        }
        : undefined,
    };
    this.weights = new PerBackend((to) => {
      const w = to.tree(host);
      // Without its own decoder matrix the MLM head reads the word embeddings (tied).
      return { ...w, head: w.head && { ...w.head, decoder: w.head.decoder ?? w.word } };
    });
  }

  releaseWeights(): void {
    this.weights.release();
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const { config: c } = this;
    const ids = checkIds(request.ids, c.vocabSize, c.maxPositions);
    const w = this.weights.get(backend);
    const { wants } = request;
    if ((wants.logits || wants.logitLens) && !w.head) throw new EngineError('MISSING_TENSOR', `${this.info.name} has no masked-LM head (cls.predictions.*), so it has no logits and no logit lens. Inspect its attention without them.`, {
      remedies: ['choose-model'], details: { tensor: 'cls.predictions.decoder.weight' },
    });
    // A single segment: token type 0 everywhere, as the fixtures' attention_mask / token_type_ids.
    const embedded = tensorScope(backend, ({ temp }) => {
      const word = temp(backend.gather(w.word, ids));
      const wordAndPosition = temp(backend.add(word, temp(backend.gather(w.position, positions(ids.length)))));
      const sum = temp(backend.add(wordAndPosition, temp(backend.gather(w.tokenType, new Int32Array(ids.length)))));
      return backend.layerNorm(sum, w.embedNorm[0], w.embedNorm[1], c.layerNormEps);
    });
    const setup = attentionSetup(
      { numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: false, keepScores: !!wants.scores },
      { scaleSource: 'head_dim' },
    );
    const lensHead = w.head && ((hidden: DeviceTensor) => this.head(backend, w, hidden));
    const x = yield* streamLayers(backend, { attention: 'self', hidden: 'main', layers: c.numLayers, hiddenAfterLast: true, lensHead }, embedded,
      (l, input) => this.layer(backend, w.layers[l], input, setup, wants, l), request);
    const kept = [x];
    try {
      if (wants.logits && w.head) {
        const logits = this.head(backend, w, x);
        kept.push(logits);
        yield await readLogits(backend, logits);
      }
    } finally {
      backend.release(kept);
    }
  }

  /** The masked-LM head on a hidden state: decoder(LayerNorm(act(dense · x))) + bias. */
  private head(backend: Backend, w: BertWeights, x: DeviceTensor): DeviceTensor {
    const h = w.head!, c = this.config;
    return tensorScope(backend, ({ temp }) => {
      const t = temp(backend.linear(x, h.dense, { bias: h.denseBias, activation: c.activation }));
      return backend.linear(temp(backend.layerNorm(t, h.norm[0], h.norm[1], c.layerNormEps)), h.decoder, { bias: h.bias });
    });
  }

  /** One post-LN block (layer `l`): attention, add and norm, feed-forward, add and norm. */
  private layer(backend: Backend, L: BertWeights['layers'][number], x: DeviceTensor, setup: AttentionSetup, wants: ForwardWants, l: number) {
    const c = this.config;
    return tensorScope(backend, ({ temp, attention: hold }) => {
      const attended = attendFused(backend, temp(backend.linear(x, L.qkv, { bias: L.qkvBias })), setup, undefined, isTraced(wants, 'self', l));
      const attention = hold(withValueNorms(backend, attended, L.attnOut, wants));
      const projected = temp(backend.linear(attention.result.context, L.attnOut, { bias: L.attnOutBias, residual: x }));
      const a = temp(backend.layerNorm(projected, L.attnNorm[0], L.attnNorm[1], c.layerNormEps));
      const inter = temp(backend.linear(a, L.inter, { bias: L.interBias, activation: c.activation }));
      const out = temp(backend.linear(inter, L.out, { bias: L.outBias, residual: a }));
      return { out: backend.layerNorm(out, L.outNorm[0], L.outNorm[1], c.layerNormEps), attention };
    });
  }
}
