/** GPT-2: learned positions, pre-LN blocks, fused c_attn (Conv1D [in, out] layout), gelu_new. */
import type { Backend, DeviceTensor } from '../backend';
import type { Gpt2Config } from '../loader/config';
import type { ForwardEvent, ForwardRequest, TransformerModel } from '../model';
import type { ModelInfo } from '../../protocol/run';
import { transpose2d } from '../tensor';
import type { WeightFile } from '../loader/weights';
import { PerBackend, attendFused, checkIds, positions, readHidden, readLayer, releaseAttention, streamFinal, throwIfAborted } from './common';

interface Gpt2Layer {
  ln1: [DeviceTensor, DeviceTensor];
  qkv: DeviceTensor;
  qkvBias: DeviceTensor;
  proj: DeviceTensor;
  projBias: DeviceTensor;
  ln2: [DeviceTensor, DeviceTensor];
  fc: DeviceTensor;
  fcBias: DeviceTensor;
  out: DeviceTensor;
  outBias: DeviceTensor;
}

interface Gpt2Weights {
  wte: DeviceTensor;
  wpe: DeviceTensor;
  layers: Gpt2Layer[];
  lnF: [DeviceTensor, DeviceTensor];
  lmHead: DeviceTensor;
}

export class Gpt2Model implements TransformerModel {
  readonly info: ModelInfo;
  private readonly weights: PerBackend<Gpt2Weights>;

  constructor(name: string, private readonly config: Gpt2Config, file: WeightFile) {
    this.info = {
      name, modelType: 'gpt2', kind: 'decoder-only', causal: true, untrained: false, crossAttention: false, eosTokenIds: config.eosTokenIds,
      numLayers: config.numLayers, numHeads: config.numHeads, numKvHeads: config.numHeads, headDim: config.headDim,
      hiddenSize: config.hiddenSize, vocabSize: config.vocabSize, maxPositions: config.maxPositions,
    };
    const prefix = file.has('transformer.wte.weight') ? 'transformer.' : '';
    const { hiddenSize: D, intermediateSize: F, vocabSize: V } = config;
    // Read every tensor now so a broken checkpoint fails at load time, not halfway through a run.
    const host = {
      wte: file.get(`${prefix}wte.weight`, [V, D]),
      wpe: file.get(`${prefix}wpe.weight`, [config.maxPositions, D]),
      lnF: [file.get(`${prefix}ln_f.weight`, [D]), file.get(`${prefix}ln_f.bias`, [D])],
      lmHead: config.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [V, D]),
      layers: Array.from({ length: config.numLayers }, (_, l) => {
        const p = `${prefix}h.${l}.`;
        return {
          ln1: [file.get(`${p}ln_1.weight`, [D]), file.get(`${p}ln_1.bias`, [D])],
          qkv: transpose2d(file.get(`${p}attn.c_attn.weight`, [D, 3 * D])),
          qkvBias: file.get(`${p}attn.c_attn.bias`, [3 * D]),
          proj: transpose2d(file.get(`${p}attn.c_proj.weight`, [D, D])),
          projBias: file.get(`${p}attn.c_proj.bias`, [D]),
          ln2: [file.get(`${p}ln_2.weight`, [D]), file.get(`${p}ln_2.bias`, [D])],
          fc: transpose2d(file.get(`${p}mlp.c_fc.weight`, [D, F])),
          fcBias: file.get(`${p}mlp.c_fc.bias`, [F]),
          out: transpose2d(file.get(`${p}mlp.c_proj.weight`, [F, D])),
          outBias: file.get(`${p}mlp.c_proj.bias`, [D]),
        };
      }),
    };
    this.weights = new PerBackend((b) => {
      const u = b.upload.bind(b);
      const wte = u(host.wte);
      return {
        wte,
        wpe: u(host.wpe),
        lnF: [u(host.lnF[0]), u(host.lnF[1])],
        lmHead: host.lmHead ? u(host.lmHead) : wte,
        layers: host.layers.map((l) => ({
          ln1: [u(l.ln1[0]), u(l.ln1[1])], qkv: u(l.qkv), qkvBias: u(l.qkvBias), proj: u(l.proj), projBias: u(l.projBias),
          ln2: [u(l.ln2[0]), u(l.ln2[1])], fc: u(l.fc), fcBias: u(l.fcBias), out: u(l.out), outBias: u(l.outBias),
        })),
      };
    });
  }

  async *forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent> {
    const { config: c } = this;
    const { wants, signal, cache, step } = request;
    const offset = cache?.length ?? 0;
    const ids = checkIds(request.ids, c.vocabSize, c.maxPositions - offset);
    const w = this.weights.get(backend);
    const tokens = backend.gather(w.wte, ids);
    const places = backend.gather(w.wpe, positions(ids.length, offset));
    let x = backend.add(tokens, places);
    backend.release([tokens, places]);
    if (wants.hiddenStates) yield await readHidden(backend, 'main', 0, x);
    const options = { numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: true, keepScores: !!wants.scores };
    for (let l = 0; l < c.numLayers; l++) {
      throwIfAborted(signal);
      const L = w.layers[l];
      const a = backend.layerNorm(x, L.ln1[0], L.ln1[1], c.layerNormEps);
      const qkv = backend.linear(a, L.qkv, { bias: L.qkvBias });
      const attn = attendFused(backend, qkv, options, undefined, cache?.layer(l));
      const afterAttention = backend.linear(attn.result.context, L.proj, { bias: L.projBias, residual: x });
      const m = backend.layerNorm(afterAttention, L.ln2[0], L.ln2[1], c.layerNormEps);
      const hidden = backend.linear(m, L.fc, { bias: L.fcBias, activation: c.activation });
      const next = backend.linear(hidden, L.out, { bias: L.outBias, residual: afterAttention });
      backend.release([x, a, qkv, afterAttention, m, hidden]);
      x = next;
      const last = l === c.numLayers - 1;
      // hidden_states.L is after ln_f, so the last block's raw output is not streamed.
      yield* await readLayer(backend, 'self', l, attn, wants, last ? undefined : { stack: 'main', index: l + 1, tensor: x }, step);
      releaseAttention(backend, attn);
    }
    if (cache) cache.length += ids.length;
    const final = backend.layerNorm(x, w.lnF[0], w.lnF[1], c.layerNormEps);
    backend.release([x]);
    yield* streamFinal(backend, final, w.lmHead, c.numLayers, wants, step);
  }
}
