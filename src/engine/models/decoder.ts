/**
 * The decoder-only transformer every causal family is built from (GPT-2, Llama, Qwen2/3, Mistral,
 * Gemma 2/3, GPT-NeoX, Phi-3, OLMo 2). A family file reads its checkpoint into the shared weight
 * layout below and says how its blocks differ; this file runs them:
 *
 *   x = embed(ids) · embeddingScale (+ learned positions)
 *   per layer, sequential:  h = x + postAttentionNorm?(attention(inputNorm?(x)))
 *                           x = h + postMlpNorm?(mlp(preMlpNorm?(h)))
 *              parallel:    x = x + attention(inputNorm(x)) + mlp(preMlpNorm(x))      (GPT-NeoX)
 *   logits = softCap?(lmHead(finalNorm(x)))
 *
 * Weights are converted at load to one layout: q|k|v stacked in one [q; k; v] projection, linear
 * weights [out, in], Gemma's (1 + w) norm weights folded to plain weights.
 */
import type { AttentionOptions, Backend, DeviceTensor, PointwiseActivation } from '../backend';
import type { DecoderConfig } from '../loader/config';
import type { LayerCache } from '../kvCache';
import type { ForwardEvent, ForwardRequest, ForwardWants, TransformerModel } from '../model';
import type { ModelInfo, RopeRecipe } from '../../protocol/run';
import type { LazyTensor } from '../tensor';
import { ProjectedAttention, attendFused, attentionSetup, tensorScope, withValueNorms } from './attention';
import { PerBackend, Uploaded, checkIds, isTraced, positions, streamFinal, streamLayers } from './common';
import { ropeInverseFrequencies } from './rope';

/** RMSNorm: a weight (Gemma's 1 + w already folded in). LayerNorm: a weight and a bias. */
export interface HostNorm {
  readonly weight: LazyTensor;
  readonly bias?: LazyTensor;
}

/** Gated (SwiGLU, GeGLU): down(act(gate · x) ⊙ up · x). Without a gate: down(act(up · x)). */
export interface HostMlp {
  readonly gate?: LazyTensor;
  readonly gateBias?: LazyTensor;
  readonly up: LazyTensor;
  readonly upBias?: LazyTensor;
  readonly down: LazyTensor;
  readonly downBias?: LazyTensor;
}

export interface HostAttention {
  /** [q; k; v] rows: [(heads + 2 · kvHeads) · headDim, hidden]. */
  readonly qkv: LazyTensor;
  readonly qkvBias?: LazyTensor;
  readonly o: LazyTensor;
  readonly oBias?: LazyTensor;
  /** q/k RMSNorm weights: [headDim] (per head) or [heads · headDim] (the whole projection). */
  readonly qNorm?: LazyTensor;
  readonly kNorm?: LazyTensor;
}

export interface HostDecoderLayer extends HostAttention {
  /** Before attention (every family but OLMo 2). */
  readonly inputNorm?: HostNorm;
  /** On the attention output, before the residual add (Gemma, OLMo 2). */
  readonly postAttentionNorm?: HostNorm;
  /** Before the MLP (Llama's post_attention_layernorm, Gemma's pre_feedforward_layernorm, GPT-2's ln_2). */
  readonly preMlpNorm?: HostNorm;
  /** On the MLP output, before the residual add (Gemma, OLMo 2). */
  readonly postMlpNorm?: HostNorm;
  readonly mlp: HostMlp;
}

export interface HostDecoderWeights {
  readonly embed: LazyTensor;
  /** Learned position embeddings (GPT-2), added to the token embeddings. */
  readonly positions?: LazyTensor;
  readonly layers: readonly HostDecoderLayer[];
  readonly finalNorm: HostNorm;
  /** Absent: tied to the embedding. */
  readonly lmHead?: LazyTensor;
}

/** What one layer's attention does, apart from its weights. */
export interface LayerPlan {
  readonly options: Omit<AttentionOptions, 'keepScores' | 'positionBias'>;
  readonly scaleSource: 'head_dim' | 'query_pre_attn_scalar';
  readonly rope?: { readonly invFreq: Float32Array; readonly recipe: RopeRecipe };
  readonly qkNorm?: 'per-head' | 'whole-projection';
}

export interface DecoderDefinition {
  readonly info: ModelInfo;
  readonly norm: 'rms' | 'layer';
  readonly normEps: number;
  readonly activation: PointwiseActivation;
  readonly parallelResidual: boolean;
  /** Gemma: embeddings × √hidden, rounded to float32 as transformers casts it to the embedding dtype. */
  readonly embeddingScale?: number;
  /** Gemma 2: logits → cap · tanh(logits / cap). */
  readonly finalSoftCap?: number;
  readonly layers: readonly LayerPlan[];
  readonly weights: HostDecoderWeights;
}

/** The ModelInfo of a RoPE decoder. */
export function decoderInfo(name: string, c: DecoderConfig): ModelInfo {
  return {
    name, modelType: c.modelType, kind: 'decoder-only', causal: true, untrained: false, crossAttention: false, eosTokenIds: c.eosTokenIds,
    numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim,
    hiddenSize: c.hiddenSize, vocabSize: c.vocabSize, maxPositions: c.maxPositions,
  };
}

/** Each layer's attention plan from a RoPE decoder's config: scale, soft-cap, window, RoPE, q/k norm. */
export function ropeLayerPlans(c: DecoderConfig, qkNorm?: LayerPlan['qkNorm']): LayerPlan[] {
  // Layers with the same RoPE settings share one table (and the GPU's cached angles).
  const ropes = new Map<object, LayerPlan['rope']>();
  return c.layers.map((layer) => {
    let rope = ropes.get(layer.rope);
    if (!rope) {
      const r = layer.rope;
      const invFreq = ropeInverseFrequencies(r);
      rope = {
        invFreq,
        recipe: {
          rotaryDims: r.rotaryDims, headDim: c.headDim, theta: r.theta, scaling: r.type,
          ...(r.type === 'default' ? {} : { factor: r.factor }), inverseFrequencies: Float32Array.from(invFreq),
        },
      };
      ropes.set(layer.rope, rope);
    }
    return {
      options: {
        numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, scale: c.attentionScale, causal: true,
        ...(c.attentionSoftCap !== undefined ? { softCap: c.attentionSoftCap } : {}),
        ...(layer.slidingWindow !== undefined ? { slidingWindow: layer.slidingWindow } : {}),
      },
      scaleSource: c.scaleSource,
      rope,
      qkNorm,
    };
  });
}

type Weights = Uploaded<HostDecoderWeights>;
type Layer = Weights['layers'][number];
type Norm = Uploaded<HostNorm>;

export class DecoderOnlyModel implements TransformerModel {
  readonly info: ModelInfo;
  private readonly weights: PerBackend<Weights>;

  constructor(private readonly def: DecoderDefinition) {
    this.info = def.info;
    this.weights = new PerBackend((to) => to.tree(def.weights));
  }

  releaseWeights(): void {
    this.weights.release();
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const { info, def } = this;
    const { wants, cache, step } = request;
    const offset = cache?.length ?? 0;
    // A learned position table ends at max_position_embeddings. Rotary positions are computed: asked
    // to, a longer text runs as transformers runs it (outside the trained context, which the panel says).
    const rotaryPastContext = !def.weights.positions && request.pastContext;
    const ids = checkIds(request.ids, info.vocabSize, rotaryPastContext ? Number.MAX_SAFE_INTEGER : info.maxPositions, 'input', offset, def.weights.positions ? [] : ['past-context']);
    const w = this.weights.get(backend);
    const layers = { attention: 'self', hidden: 'main', layers: info.numLayers, lensHead: (h: DeviceTensor) => this.head(backend, w, h) } as const;
    const out = yield* streamLayers(backend, layers, this.embed(backend, w, ids, offset),
      (l, x) => this.layer(backend, l, x, w.layers[l], wants, offset, cache?.layer(l)), request);
    if (cache) cache.length += ids.length;
    let final: DeviceTensor;
    try {
      final = this.norm(backend, out, w.finalNorm);
    } finally {
      backend.release([out]);
    }
    yield* streamFinal(backend, final, w.lmHead ?? w.embed, info.numLayers, wants, step, def.finalSoftCap);
  }

  private embed(b: Backend, w: Weights, ids: Int32Array, offset: number): DeviceTensor {
    return tensorScope(b, ({ temp }) => {
      const tokens = b.gather(w.embed, ids);
      const scale = this.def.embeddingScale;
      const scaled = scale === undefined ? tokens : b.scale(temp(tokens), scale);
      if (!w.positions) return scaled;
      return b.add(temp(scaled), temp(b.gather(w.positions, positions(ids.length, offset))));
    });
  }

  /** logits = softCap?(lmHead(finalNorm(x))) of any hidden state: the logit lens's head. */
  private head(b: Backend, w: Weights, x: DeviceTensor): DeviceTensor {
    return tensorScope(b, ({ temp }) => {
      const logits = b.linear(temp(this.norm(b, x, w.finalNorm)), w.lmHead ?? w.embed);
      const cap = this.def.finalSoftCap;
      return cap === undefined ? logits : b.softCap(temp(logits), cap);
    });
  }

  private norm(b: Backend, x: DeviceTensor, n: Norm): DeviceTensor {
    const eps = this.def.normEps;
    return this.def.norm === 'layer' ? b.layerNorm(x, n.weight, n.bias!, eps) : b.rmsNorm(x, n.weight, eps);
  }

  private layer(b: Backend, l: number, x: DeviceTensor, L: Layer, wants: ForwardWants, offset: number, cache?: LayerCache): { out: DeviceTensor; attention: ProjectedAttention } {
    return tensorScope(b, ({ temp, attention: hold }) => {
      const normed = L.inputNorm ? temp(this.norm(b, x, L.inputNorm)) : x;
      const qkv = temp(b.linear(normed, L.qkv, { bias: L.qkvBias }));
      const attention = hold(withValueNorms(b, attendFused(b, qkv, this.setup(l, L, wants, offset), cache, isTraced(wants, 'self', l)), L.o, wants));
      const context = attention.result.context;
      if (this.def.parallelResidual) {
        const withAttention = temp(this.project(b, context, L.o, L.oBias, x));
        const out = this.project(b, temp(this.hidden(b, temp(this.norm(b, x, L.preMlpNorm!)), L.mlp)), L.mlp.down, L.mlp.downBias, withAttention);
        return { out, attention };
      }
      const h = temp(this.project(b, context, L.o, L.oBias, x, L.postAttentionNorm));
      const m = L.preMlpNorm ? temp(this.norm(b, h, L.preMlpNorm)) : h;
      const out = this.project(b, temp(this.hidden(b, m, L.mlp)), L.mlp.down, L.mlp.downBias, h, L.postMlpNorm);
      return { out, attention };
    });
  }

  private setup(l: number, L: Layer, wants: ForwardWants, offset: number) {
    const plan = this.def.layers[l];
    const options: AttentionOptions = { ...plan.options, keepScores: !!wants.scores };
    const { headDim } = plan.options;
    const rope = plan.rope && {
      spec: { invFreq: plan.rope.invFreq, headDim, rotaryDims: plan.rope.recipe.rotaryDims, positionOffset: offset },
      recipe: plan.rope.recipe,
    };
    const qkNorm = plan.qkNorm && { q: L.qNorm!, k: L.kNorm!, eps: this.def.normEps, kind: plan.qkNorm };
    return attentionSetup(options, { scaleSource: plan.scaleSource, rope, qkNorm });
  }

  /** residual + postNorm?(input · Wᵀ + bias); without a post-norm the residual add is fused into the linear. */
  private project(b: Backend, input: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor | undefined, residual: DeviceTensor, postNorm?: Norm): DeviceTensor {
    if (!postNorm) return b.linear(input, weight, { bias, residual });
    return tensorScope(b, ({ temp }) => b.add(residual, temp(this.norm(b, temp(b.linear(input, weight, { bias })), postNorm))));
  }

  /** The MLP's hidden activations (the input of its down projection). */
  private hidden(b: Backend, m: DeviceTensor, mlp: Layer['mlp']): DeviceTensor {
    const activation = this.def.activation;
    if (!mlp.gate) return b.linear(m, mlp.up, { bias: mlp.upBias, activation });
    const gate = mlp.gate;
    return tensorScope(b, ({ temp }) => b.gated(temp(b.linear(m, gate, { bias: mlp.gateBias })), temp(b.linear(m, mlp.up, { bias: mlp.upBias })), activation));
  }
}
