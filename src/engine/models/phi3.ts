/**
 * Phi-3: the Llama block with fused projections. qkv_proj holds [q; k; v] rows, already the layout
 * the shared attention splits; gate_up_proj holds [gate; up] rows (transformers chunks its output in
 * two), split at load into the gated MLP's two projections. Partial rotary where the config asks.
 */
import type { DecoderConfig } from '../loader/config';
import type { WeightFile } from '../loader/weights';
import type { TransformerModel } from '../model';
import { sliceRows } from '../tensor';
import { DecoderOnlyModel } from './decoder';
import { llamaStyleWeights, rmsNorm, ropeDecoder } from './decoderWeights';

export function phi3Model(name: string, c: DecoderConfig, file: WeightFile): TransformerModel {
  const { hiddenSize: D, intermediateSize: F } = c;
  const qDim = c.numHeads * c.headDim;
  const qkvRows = qDim + 2 * c.numKvHeads * c.headDim;
  const weights = llamaStyleWeights(file, c, (p) => {
    const gateUp = file.get(`${p}mlp.gate_up_proj.weight`, [2 * F, D]);
    return {
      inputNorm: rmsNorm(file, `${p}input_layernorm.weight`, D),
      qkv: file.get(`${p}self_attn.qkv_proj.weight`, [qkvRows, D]),
      o: file.get(`${p}self_attn.o_proj.weight`, [D, qDim]),
      preMlpNorm: rmsNorm(file, `${p}post_attention_layernorm.weight`, D),
      mlp: { gate: gateUp.map((w) => sliceRows(w, 0, F)), up: gateUp.map((w) => sliceRows(w, F, F)), down: file.get(`${p}mlp.down_proj.weight`, [D, F]) },
    };
  });
  return new DecoderOnlyModel(ropeDecoder(name, c, weights));
}
