/**
 * The built-in demo: the attention tutorial's setup with no files and no network. A vocabulary built
 * from the text itself, a seeded embedding, sinusoidal positions, and one multi-head attention layer
 * (8 heads over d_model 512, d_k 64) with W_Q, W_K, W_V, W_O from a fixed seed. Its weights are random:
 * it shows the mechanics (scaling, masking, softmax, heads, cross-attention), not language.
 *
 * Variants: "demo" is bidirectional self-attention; "demo-causal" masks future positions. Either, given
 * a target, runs encoder self-attention, decoder masked self-attention and decoder→encoder cross-attention.
 */
import type { Backend, DeviceTensor } from '../backend';
import { EngineError } from '../errors';
import type { ForwardEvent, ForwardRequest, TransformerModel } from '../model';
import type { ModelInfo } from '../../protocol/run';
import { ProjectedAttention, attendCross, attendFused, attentionSetup, releaseAttention, withValueNorms } from '../models/attention';
import { isTraced, readHidden, readLayer, throwIfAborted, PerBackend, WeightUpload } from '../models/common';
import { concatRows, f32Tensor } from '../tensor';
import type { TokenizedText } from '../../protocol/run';
import type { TextTokenizer } from '../tokenizer';
import { DemoVocabulary, demoSegments } from './demoVocabulary';
import { gaussianMatrix, sinusoidalPositions, tokenEmbedding } from './demoWeights';

/** The built-in model's two variants: bidirectional and masked (causal) self-attention. */
const DEMO_MODELS = ['demo', 'demo-causal'] as const;
export type DemoModelName = (typeof DEMO_MODELS)[number];

export function isDemoModel(spec: string): spec is DemoModelName {
  return (DEMO_MODELS as readonly string[]).includes(spec);
}

const DEMO_D_MODEL = 512;
const DEMO_HEADS = 8;
const DEMO_MAX_TOKENS = 4096;
const D = DEMO_D_MODEL;
const HEAD_DIM = D / DEMO_HEADS;

interface AttentionWeights {
  /** W_Q, W_K, W_V stacked [3·d, d]. */
  qkv: DeviceTensor;
  q: DeviceTensor;
  /** W_K, W_V stacked [2·d, d], for cross-attention's keys and values from the encoder. */
  kv: DeviceTensor;
  o: DeviceTensor;
}

/** Separate projections per role, as in the tutorial's encoder, decoder and cross-attention blocks. */
interface DemoWeights {
  self: AttentionWeights;
  cross: AttentionWeights;
  decoderSelf: AttentionWeights;
}

function projections(to: WeightUpload, seed: number): AttentionWeights {
  // Xavier-normal weights: scores of order 1 after ÷√d_k, so the softmax is neither flat nor one-hot.
  const [wq, wk, wv, wo] = [0, 1, 2, 3].map((i) => f32Tensor([D, D], gaussianMatrix(D, D, seed + i, Math.sqrt(2 / (2 * D)))));
  return {
    qkv: to.tensor(concatRows([wq, wk, wv])),
    q: to.tensor(wq),
    kv: to.tensor(concatRows([wk, wv])),
    o: to.tensor(wo),
  };
}

export class DemoTokenizer implements TextTokenizer {
  constructor(readonly vocabulary: DemoVocabulary = DemoVocabulary.shared) {}

  async encode(text: string): Promise<TokenizedText> {
    const segments = demoSegments(text);
    return {
      ids: segments.map((s) => this.vocabulary.idOf(s.text)),
      tokens: segments.map((s) => s.text),
      offsetsUtf16: segments.map((s) => [s.start, s.end] as const),
      special: segments.map(() => false),
    };
  }

  async decode(ids: readonly number[]): Promise<string> {
    return ids.map((id) => this.idToToken(id)).join(' ');
  }

  idToToken(id: number): string {
    return this.vocabulary.tokenOf(id) ?? `<${id}>`;
  }
}

export class DemoModel implements TransformerModel {
  readonly info: ModelInfo;
  private readonly weights = new PerBackend<DemoWeights>((b) => ({
    self: projections(b, 1000),
    decoderSelf: projections(b, 2000),
    cross: projections(b, 3000),
  }));

  constructor(
    private readonly causal = false,
    private readonly vocabulary: DemoVocabulary = DemoVocabulary.shared,
  ) {
    this.info = {
      name: causal ? 'demo-causal' : 'demo', modelType: 'demo', kind: causal ? 'decoder-only' : 'encoder-only',
      causal, crossAttention: true, untrained: true, eosTokenIds: [],
      numLayers: 1, numHeads: DEMO_HEADS, numKvHeads: DEMO_HEADS, headDim: HEAD_DIM, hiddenSize: D,
      vocabSize: Number.MAX_SAFE_INTEGER, maxPositions: DEMO_MAX_TOKENS,
    };
  }

  releaseWeights(): void {
    this.weights.release();
  }

  private embed(backend: Backend, ids: readonly number[], what: string): DeviceTensor {
    if (ids.length === 0) throw new EngineError('BAD_INPUT', `The ${what} has no tokens.`);
    if (ids.length > DEMO_MAX_TOKENS) {
      throw new EngineError('TOO_MANY_TOKENS', `The ${what} has ${ids.length} tokens; the demo model takes at most ${DEMO_MAX_TOKENS}.`, {
        remedies: ['shorter-input'], details: { part: what === 'target' ? 'target' : 'input', tokens: ids.length, limit: DEMO_MAX_TOKENS },
      });
    }
    const x = sinusoidalPositions(ids.length, D);
    ids.forEach((id, t) => {
      const token = this.vocabulary.tokenOf(id);
      if (token === undefined) throw new EngineError('BAD_INPUT', `Id ${id} is not in the demo vocabulary, which is built from the text you inspect; pass text instead of ids.`);
      const row = tokenEmbedding(token, D);
      for (let i = 0; i < D; i++) x[t * D + i] += row[i];
    });
    return backend.fromFloat32(x, [ids.length, D]);
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const w = this.weights.get(backend);
    const { wants, signal } = request;
    if (wants.logitLens) throw new EngineError('BAD_INPUT', 'The built-in demo model has no language-model head, so it has no logit lens: choose a trained model (Attention: Choose Model…).');
    const base = { numHeads: DEMO_HEADS, numKvHeads: DEMO_HEADS, headDim: HEAD_DIM, scale: 1 / Math.sqrt(HEAD_DIM), keepScores: !!wants.scores };
    const setup = (causal: boolean) => attentionSetup({ ...base, causal }, { scaleSource: 'head_dim' });
    const seq2seq = request.decoderIds !== undefined;
    const stack = seq2seq ? 'encoder' : 'main';
    // Cancelled, failed or finished: every tensor of the pass is released (a second release does nothing).
    const held: DeviceTensor[] = [];
    const hold = (t: DeviceTensor) => (held.push(t), t);
    const attentions: ProjectedAttention[] = [];
    const attend = (a: ProjectedAttention) => (attentions.push(a), a);
    try {
      const source = hold(this.embed(backend, request.ids, seq2seq ? 'source' : 'input'));
      if (wants.hiddenStates) yield await readHidden(backend, stack, 0, source);
      // The source side: bidirectional in seq2seq (an encoder), else as the variant says.
      const sourceStack = seq2seq ? 'encoder' : 'self';
      const sourceQkv = hold(backend.linear(source, w.self.qkv));
      const selfAttn = attend(withValueNorms(backend, attendFused(backend, sourceQkv, setup(!seq2seq && this.causal), undefined, isTraced(wants, sourceStack, 0)), w.self.o, wants));
      const encoded = hold(backend.linear(selfAttn.result.context, w.self.o, { residual: source }));
      yield* await readLayer(backend, sourceStack, 0, selfAttn, wants, { stack, index: 1, tensor: encoded });
      if (!request.decoderIds) return;

      throwIfAborted(signal);
      const target = hold(this.embed(backend, request.decoderIds, 'target'));
      if (wants.hiddenStates) yield await readHidden(backend, 'decoder', 0, target);
      const targetQkv = hold(backend.linear(target, w.decoderSelf.qkv));
      const maskedAttn = attend(withValueNorms(backend, attendFused(backend, targetQkv, setup(true), undefined, isTraced(wants, 'decoder', 0)), w.decoderSelf.o, wants));
      const decoded = hold(backend.linear(maskedAttn.result.context, w.decoderSelf.o, { residual: target }));
      yield* await readLayer(backend, 'decoder', 0, maskedAttn, wants);

      // Cross-attention: queries from the decoder, keys and values from the encoder output.
      const queries = hold(backend.linear(decoded, w.cross.q));
      const kv = hold(backend.linear(encoded, w.cross.kv));
      const [keys, values] = backend.split(kv, [{ width: D }, { width: D }]).map(hold);
      const cross = attend(withValueNorms(backend, attendCross(backend, queries, { k: keys, v: values }, setup(false), isTraced(wants, 'cross', 0)), w.cross.o, wants));
      const out = hold(backend.linear(cross.result.context, w.cross.o, { residual: decoded }));
      yield* await readLayer(backend, 'cross', 0, cross, wants, { stack: 'decoder', index: 1, tensor: out });
    } finally {
      for (const a of attentions) releaseAttention(backend, a);
      backend.release(held);
    }
  }
}
