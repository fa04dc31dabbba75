/**
 * The Llama family (Llama, Qwen2): RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU.
 * Qwen2 adds q/k/v biases; Llama's attention_bias adds them and an o_proj bias.
 */
import type { Backend, DeviceTensor, RopeSpec } from '../backend';
import type { LlamaConfig } from '../loader/config';
import type { ForwardEvent, ForwardRequest, TransformerModel } from '../model';
import type { ModelInfo } from '../../protocol/run';
import { HostTensor, concatRows } from '../tensor';
import type { WeightFile } from '../loader/weights';
import { PerBackend, attendFused, checkIds, readHidden, readLayer, releaseAttention, streamFinal, throwIfAborted } from './common';
import { ropeInverseFrequencies } from './rope';

interface LlamaLayer {
  inputNorm: DeviceTensor;
  qkv: DeviceTensor;
  qkvBias?: DeviceTensor;
  o: DeviceTensor;
  oBias?: DeviceTensor;
  postNorm: DeviceTensor;
  gate: DeviceTensor;
  gateBias?: DeviceTensor;
  up: DeviceTensor;
  upBias?: DeviceTensor;
  down: DeviceTensor;
  downBias?: DeviceTensor;
}

interface LlamaWeights {
  embed: DeviceTensor;
  layers: LlamaLayer[];
  norm: DeviceTensor;
  lmHead: DeviceTensor;
}

type HostLayer = { [K in keyof LlamaLayer]: HostTensor | undefined };

export class LlamaModel implements TransformerModel {
  readonly info: ModelInfo;
  private readonly weights: PerBackend<LlamaWeights>;
  private readonly invFreq: Float32Array;

  constructor(name: string, private readonly config: LlamaConfig, file: WeightFile) {
    const c = config;
    this.info = {
      name, modelType: c.modelType, kind: 'decoder-only', causal: true, untrained: false, crossAttention: false, eosTokenIds: config.eosTokenIds,
      numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim,
      hiddenSize: c.hiddenSize, vocabSize: c.vocabSize, maxPositions: c.maxPositions,
    };
    this.invFreq = ropeInverseFrequencies(c.headDim, c.rope);
    const prefix = file.has('model.embed_tokens.weight') ? 'model.' : '';
    const { hiddenSize: D, intermediateSize: F, vocabSize: V, headDim: hd } = c;
    const qDim = c.numHeads * hd;
    const kvDim = c.numKvHeads * hd;
    const optional = (present: boolean, name: string, shape: number[]) => (present ? file.get(name, shape) : undefined);
    const embed = file.get(`${prefix}embed_tokens.weight`, [V, D]);
    const hostLayers: HostLayer[] = Array.from({ length: c.numLayers }, (_, l) => {
      const p = `${prefix}layers.${l}.`;
      const a = `${p}self_attn.`;
      const m = `${p}mlp.`;
      return {
        inputNorm: file.get(`${p}input_layernorm.weight`, [D]),
        qkv: concatRows([file.get(`${a}q_proj.weight`, [qDim, D]), file.get(`${a}k_proj.weight`, [kvDim, D]), file.get(`${a}v_proj.weight`, [kvDim, D])]),
        qkvBias: c.attentionBias
          ? concatRows([file.get(`${a}q_proj.bias`, [qDim]), file.get(`${a}k_proj.bias`, [kvDim]), file.get(`${a}v_proj.bias`, [kvDim])])
          : undefined,
        o: file.get(`${a}o_proj.weight`, [D, qDim]),
        oBias: optional(c.attentionBias && c.modelType === 'llama', `${a}o_proj.bias`, [D]),
        postNorm: file.get(`${p}post_attention_layernorm.weight`, [D]),
        gate: file.get(`${m}gate_proj.weight`, [F, D]),
        gateBias: optional(c.mlpBias, `${m}gate_proj.bias`, [F]),
        up: file.get(`${m}up_proj.weight`, [F, D]),
        upBias: optional(c.mlpBias, `${m}up_proj.bias`, [F]),
        down: file.get(`${m}down_proj.weight`, [D, F]),
        downBias: optional(c.mlpBias, `${m}down_proj.bias`, [D]),
      };
    });
    const norm = file.get(`${prefix}norm.weight`, [D]);
    const lmHead = c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [V, D]);
    this.weights = new PerBackend((b) => {
      const e = b.upload(embed);
      return {
        embed: e,
        norm: b.upload(norm),
        lmHead: lmHead ? b.upload(lmHead) : e,
        layers: hostLayers.map((l) => {
          const up = Object.entries(l).map(([k, t]) => [k, t && b.upload(t)]);
          return Object.fromEntries(up) as unknown as LlamaLayer;
        }),
      };
    });
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const { config: c } = this;
    const { wants, signal, cache, step } = request;
    const offset = cache?.length ?? 0;
    const ids = checkIds(request.ids, c.vocabSize, Number.MAX_SAFE_INTEGER);
    const w = this.weights.get(backend);
    let x = backend.gather(w.embed, ids);
    if (wants.hiddenStates) yield await readHidden(backend, 'main', 0, x);
    const rope: RopeSpec = { invFreq: this.invFreq, headDim: c.headDim, rotaryDims: c.headDim, positionOffset: offset };
    const options = { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: true, keepScores: !!wants.scores };
    for (let l = 0; l < c.numLayers; l++) {
      throwIfAborted(signal);
      const L = w.layers[l];
      const a = backend.rmsNorm(x, L.inputNorm, c.rmsNormEps);
      const qkv = backend.linear(a, L.qkv, { bias: L.qkvBias });
      const attn = attendFused(backend, qkv, options, rope, cache?.layer(l));
      const afterAttention = backend.linear(attn.result.context, L.o, { bias: L.oBias, residual: x });
      const m = backend.rmsNorm(afterAttention, L.postNorm, c.rmsNormEps);
      const gate = backend.linear(m, L.gate, { bias: L.gateBias });
      const up = backend.linear(m, L.up, { bias: L.upBias });
      const h = backend.gated(gate, up, c.activation);
      const next = backend.linear(h, L.down, { bias: L.downBias, residual: afterAttention });
      backend.release([x, a, qkv, afterAttention, m, gate, up, h]);
      x = next;
      const last = l === c.numLayers - 1;
      yield* await readLayer(backend, 'self', l, attn, wants, last ? undefined : { stack: 'main', index: l + 1, tensor: x }, step);
      releaseAttention(backend, attn);
    }
    if (cache) cache.length += ids.length;
    const final = backend.rmsNorm(x, w.norm, c.rmsNormEps);
    backend.release([x]);
    yield* streamFinal(backend, final, w.lmHead, c.numLayers, wants, step);
  }
}
