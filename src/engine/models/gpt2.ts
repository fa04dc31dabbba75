/**
 * GPT-2: learned positions, pre-LN blocks with LayerNorm (ln_1, ln_2, ln_f), a fused c_attn [q | k | v]
 * and a plain gelu_new MLP, all with biases. Its Conv1D weights are stored [in, out] and transposed at
 * load to the [out, in] layout of nn.Linear.
 */
import type { Gpt2Config } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { transpose2d } from '../tensor';
import { DecoderOnlyModel } from './decoder';
import { layerNorm, namePrefix } from './decoderWeights';

export function gpt2Model(name: string, c: Gpt2Config, file: WeightFile): TransformerModel {
  const p = namePrefix(file, 'transformer.', 'wte.weight');
  const { hiddenSize: D, intermediateSize: F, vocabSize: V } = c;
  // Every tensor is named and its shape checked now, so a broken checkpoint fails at load time, not halfway through a run.
  const weights = {
    embed: file.get(`${p}wte.weight`, [V, D]),
    positions: file.get(`${p}wpe.weight`, [c.maxPositions, D]),
    layers: Array.from({ length: c.numLayers }, (_, l) => {
      const lp = `${p}h.${l}.`;
      return {
        inputNorm: layerNorm(file, `${lp}ln_1`, D),
        qkv: file.get(`${lp}attn.c_attn.weight`, [D, 3 * D]).map(transpose2d),
        qkvBias: file.get(`${lp}attn.c_attn.bias`, [3 * D]),
        o: file.get(`${lp}attn.c_proj.weight`, [D, D]).map(transpose2d),
        oBias: file.get(`${lp}attn.c_proj.bias`, [D]),
        preMlpNorm: layerNorm(file, `${lp}ln_2`, D),
        mlp: {
          up: file.get(`${lp}mlp.c_fc.weight`, [D, F]).map(transpose2d), upBias: file.get(`${lp}mlp.c_fc.bias`, [F]),
          down: file.get(`${lp}mlp.c_proj.weight`, [F, D]).map(transpose2d), downBias: file.get(`${lp}mlp.c_proj.bias`, [D]),
        },
      };
    }),
    finalNorm: layerNorm(file, `${p}ln_f`, D),
    lmHead: c.tieWordEmbeddings ? undefined : file.get('lm_head.weight', [V, D]),
  };
  const options = { numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: true };
  return new DecoderOnlyModel({
    info: {
      name, modelType: 'gpt2', kind: 'decoder-only', causal: true, untrained: false, crossAttention: false, eosTokenIds: c.eosTokenIds,
      numLayers: c.numLayers, numHeads: c.numHeads, numKvHeads: c.numHeads, headDim: c.headDim,
      hiddenSize: D, vocabSize: V, maxPositions: c.maxPositions,
    },
    norm: 'layer', normEps: c.layerNormEps, activation: c.activation, parallelResidual: false,
    layers: Array.from({ length: c.numLayers }, () => ({ options, scaleSource: 'head_dim' as const })),
    weights,
  });
}
