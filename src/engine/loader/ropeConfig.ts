/**
 * RoPE settings from config.json, in the layouts real checkpoints use:
 * - transformers 5: `rope_parameters` {rope_type, rope_theta, factor …, partial_rotary_factor}, or one
 *   such object per layer type (`full_attention`, `sliding_attention`: Gemma 3);
 * - transformers 4: top-level `rope_theta` (GPT-NeoX: `rotary_emb_base`) and `rope_scaling`
 *   ({type | rope_type, factor …} or null); Gemma 3's local layers use `rope_local_base_freq` unscaled;
 * - partial rotary: `partial_rotary_factor` (Phi-3 and transformers 5) or GPT-NeoX's `rotary_pct`.
 * Scaling types other than default, linear and llama3 (dynamic, yarn, longrope, su …) are refused
 * naming the field and its value: computing them as another type would give wrong attention.
 */
import type { ConfigReader } from './configReader';

export type RopeType = 'default' | 'linear' | 'llama3';
const ROPE_TYPES: readonly RopeType[] = ['default', 'linear', 'llama3'];

export interface RopeSettings {
  readonly theta: number;
  readonly type: RopeType;
  /** linear: positions divided by it; llama3: long wavelengths slowed by it. 1 for default. */
  readonly factor: number;
  /** llama3 only. */
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositions: number;
  /** The first rotaryDims of each head rotate (head_dim × the partial factor, even); the rest pass. */
  readonly rotaryDims: number;
}

/** Which of Gemma 3's two RoPE settings a layer uses. */
export type LayerType = 'full_attention' | 'sliding_attention';

/**
 * The RoPE of a layer of `layerType` (only models with per-layer-type RoPE care: `localTheta` names the
 * transformers-4 field that holds the local layers' theta, as Gemma 3's rope_local_base_freq).
 */
export function readRope(r: ConfigReader, headDim: number, layerType?: LayerType, localTheta?: string): RopeSettings {
  const parameters = r.nested('rope_parameters');
  const perLayerType = layerType ? parameters?.nested(layerType) : undefined;
  if (!layerType && (parameters?.has('full_attention') || parameters?.has('sliding_attention'))) {
    r.reject('rope_parameters', 'holds one RoPE per layer type, which this architecture does not have');
  }
  const local = layerType === 'sliding_attention' && localTheta !== undefined;
  // The object holding rope_type and its factors, if any; theta may live there (v5) or at the top (v4).
  const scaling = perLayerType ?? parameters ?? (local ? undefined : r.nested('rope_scaling'));
  let theta: number;
  if (scaling?.has('rope_theta')) theta = positive(scaling, 'rope_theta');
  else if (local) theta = positive(r, localTheta!, 10000);
  else if (r.has('rotary_emb_base')) theta = positive(r, 'rotary_emb_base');
  else theta = positive(r, 'rope_theta', 10000);
  const typeField = scaling?.has('rope_type') ? 'rope_type' : 'type';
  const type = scaling?.has(typeField) ? scaling.str(typeField) : 'default';
  if (!(ROPE_TYPES as readonly string[]).includes(type)) {
    scaling!.reject(typeField, `is "${type}", a RoPE scaling that is not supported (supported: ${ROPE_TYPES.join(', ')})`);
  }
  const scaled = type !== 'default';
  const llama3 = type === 'llama3';
  return {
    theta,
    type: type as RopeType,
    factor: scaled ? positive(scaling!, 'factor') : 1,
    lowFreqFactor: llama3 ? positive(scaling!, 'low_freq_factor') : 1,
    highFreqFactor: llama3 ? positive(scaling!, 'high_freq_factor') : 1,
    originalMaxPositions: llama3 ? scaling!.int('original_max_position_embeddings') : 0,
    rotaryDims: rotaryDims(r, perLayerType ?? parameters, headDim),
  };
}

function positive(r: ConfigReader, field: string, fallback?: number): number {
  const v = r.num(field, fallback);
  if (!(v > 0)) r.reject(field, `must be a positive number, not ${v}`);
  return v;
}

/** head_dim × the partial rotary factor; it must leave an even number of rotating dims. */
function rotaryDims(r: ConfigReader, parameters: ConfigReader | undefined, headDim: number): number {
  const [holder, field] = parameters?.has('partial_rotary_factor') ? [parameters, 'partial_rotary_factor']
    : r.has('partial_rotary_factor') ? [r, 'partial_rotary_factor']
      : r.has('rotary_pct') ? [r, 'rotary_pct'] : [undefined, ''];
  if (!holder) return headDim;
  const fraction = holder.num(field);
  // transformers: int(head_dim * factor).
  const dims = Math.floor(headDim * fraction);
  if (!(fraction > 0 && fraction <= 1) || dims < 2 || dims % 2 !== 0) {
    holder.reject(field, `is ${fraction}: it must rotate an even number of each head's ${headDim} dims (0 < factor ≤ 1), not ${dims}`);
  }
  return dims;
}
