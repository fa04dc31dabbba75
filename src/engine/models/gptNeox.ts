/**
 * GPT-NeoX (Pythia): LayerNorms with biases, biased projections, a plain GELU MLP, rotary on only the
 * first rotary_pct of each head's dims, and (use_parallel_residual) attention and MLP both read the
 * block input: x + attention(ln1(x)) + mlp(ln2(x)).
 *
 * query_key_value is laid out per head, [q_h; k_h; v_h] for h = 0 … H−1 (transformers views its
 * output as [heads, 3 · head_dim] and chunks each head in three). It is reordered at load to
 * [q_0 … q_H−1; k_0 …; v_0 …], the layout the shared attention splits, so the kernels need no variant.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { HostTensor, concatRows, sliceRows } from '../tensor';
import { DecoderOnlyModel } from './decoder';
import { layerNorm, namePrefix, ropeDecoder } from './decoderWeights';

/** Per-head interleaved [q_h; k_h; v_h] rows (or bias entries) → [all q; all k; all v]. */
function deinterleaveQkv(t: HostTensor, heads: number, headDim: number): HostTensor {
  const blocks: HostTensor[] = [];
  for (let part = 0; part < 3; part++) {
    for (let h = 0; h < heads; h++) blocks.push(sliceRows(t, (3 * h + part) * headDim, headDim));
  }
  return concatRows(blocks);
}

export function gptNeoxModel(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const { hiddenSize: D, intermediateSize: F, vocabSize: V, numHeads: H, headDim } = c;
  const p = namePrefix(file, 'gpt_neox.', 'embed_in.weight');
  const bias = (name: string, size: number) => (c.attentionBias ? file.get(name, [size]) : undefined);
  const weights = {
    embed: file.get(`${p}embed_in.weight`, [V, D]),
    layers: Array.from({ length: c.numLayers }, (_, l) => {
      const lp = `${p}layers.${l}.`;
      const qkvBias = bias(`${lp}attention.query_key_value.bias`, 3 * D);
      return {
        inputNorm: layerNorm(file, `${lp}input_layernorm`, D),
        qkv: file.get(`${lp}attention.query_key_value.weight`, [3 * D, D]).map((w) => deinterleaveQkv(w, H, headDim)),
        qkvBias: qkvBias?.map((b) => deinterleaveQkv(b, H, headDim)),
        o: file.get(`${lp}attention.dense.weight`, [D, D]),
        oBias: bias(`${lp}attention.dense.bias`, D),
        preMlpNorm: layerNorm(file, `${lp}post_attention_layernorm`, D),
        mlp: {
          up: file.get(`${lp}mlp.dense_h_to_4h.weight`, [F, D]), upBias: file.get(`${lp}mlp.dense_h_to_4h.bias`, [F]),
          down: file.get(`${lp}mlp.dense_4h_to_h.weight`, [D, F]), downBias: file.get(`${lp}mlp.dense_4h_to_h.bias`, [D]),
        },
      };
    }),
    finalNorm: layerNorm(file, `${p}final_layer_norm`, D),
    lmHead: c.tieWordEmbeddings ? undefined : file.get('embed_out.weight', [V, D]),
  };
  return new DecoderOnlyModel(ropeDecoder(name, c, weights, undefined, { norm: 'layer' }));
}
