/**
 * Damage to config.json: every numeric field set to values no model has (0, negatives, fractions, 2³²,
 * 1e12, 1e-300, strings, lists…), fields removed, RoPE parameters of every wrong type, a foreign
 * model_type, broken JSON, a folder in its place.
 */
import type { FileEntry, Mutated } from '../plan';
import type { Rng } from '../rng';

const CONFIG = 'config.json';

const ODD: readonly unknown[] = [
  0, -1, 1, 2, 3, 1.5, 0.5, -0.0, 2 ** 31, 2 ** 32, 2 ** 53, 1e12, 1e300, -1e300, 1e-300, -1e-5, 1e-45, 1e39,
  'abc', '12', '', null, true, false, [], [1], {}, { a: 1 },
];

/** Fields some family reads, added when the model's config lacks them. */
const EXTRA_FIELDS = [
  'rope_theta', 'rms_norm_eps', 'layer_norm_eps', 'layer_norm_epsilon', 'head_dim', 'num_key_value_heads', 'max_position_embeddings',
  'decoder_start_token_id', 'pad_token_id', 'eos_token_id', 'relative_attention_num_buckets', 'relative_attention_max_distance',
  'n_inner', 'num_decoder_layers', 'tie_word_embeddings', 'attention_bias', 'mlp_bias', 'hidden_act', 'activation_function',
  'sliding_window', 'use_sliding_window', 'max_window_layers', 'sliding_window_pattern', 'layer_types', 'attn_logit_softcapping',
  'final_logit_softcapping', 'query_pre_attn_scalar', 'partial_rotary_factor', 'rotary_pct', 'rotary_emb_base', 'rope_local_base_freq',
];

const ROPE: readonly unknown[] = [
  'x', [], 7, { factor: 'abc' }, { factor: [] }, { factor: 0 }, { factor: -2 }, { factor: 1e300 }, { rope_type: 'yarn', factor: 2 },
  { rope_type: 'linear', factor: 4 }, { rope_type: 'linear' }, { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 4, original_max_position_embeddings: 64 },
  { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 0 }, { rope_type: 'default', rope_theta: 1e-300 },
  { rope_type: 'default', rope_theta: 'abc' }, { rope_type: 'default', rope_theta: -10000 }, { type: 7 }, { rope_type: null }, null,
];

export function mutateConfig(rng: Rng, bytes: Buffer, modelTypes: readonly string[]): Mutated {
  const config = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const files = new Map<string, FileEntry>();
  const numeric = Object.keys(config).filter((k) => typeof config[k] === 'number');
  const mutation = rng.pick(['numeric', 'numeric', 'numeric', 'extra-field', 'delete-field', 'rope', 'model-type', 'json', 'whole-file', 'two-fields']);
  let detail: string;
  const set = (field: string) => {
    config[field] = rng.pick(ODD);
    return `${field} = ${JSON.stringify(config[field])}`;
  };
  switch (mutation) {
    case 'numeric':
      detail = set(rng.pick(numeric));
      break;
    case 'two-fields':
      detail = `${set(rng.pick(numeric))}, ${set(rng.pick(numeric))}`;
      break;
    case 'extra-field':
      detail = set(rng.pick(EXTRA_FIELDS));
      break;
    case 'delete-field': {
      const field = rng.pick(Object.keys(config));
      delete config[field];
      detail = `${field} removed`;
      break;
    }
    case 'rope': {
      const field = rng.pick(['rope_parameters', 'rope_scaling']);
      config[field] = rng.pick(ROPE);
      detail = `${field} = ${JSON.stringify(config[field])}`;
      break;
    }
    case 'model-type':
      config.model_type = rng.pick([...modelTypes, 'mamba', '', 7, null]);
      detail = `model_type = ${JSON.stringify(config.model_type)}`;
      break;
    case 'json': {
      const text = JSON.stringify(config, null, 1);
      const at = rng.int(text.length);
      files.set(CONFIG, Buffer.from(rng.chance(0.5) ? text.slice(0, at) : `${text.slice(0, at)}${rng.pick(['}', ',', '"', 'x', '\u0000', '\ud800'])}${text.slice(at + 1)}`));
      return { mutation, detail: `JSON damaged at ${at}`, files, blame: CONFIG };
    }
    default: {
      const entry = rng.pick<FileEntry>(['directory', null, Buffer.alloc(0), Buffer.from('[]'), Buffer.from('null'), Buffer.from('\xef\xbb\xbf{}')]);
      files.set(CONFIG, entry);
      return { mutation, detail: `config.json ${entry === null ? 'removed' : entry === 'directory' ? 'is a folder' : JSON.stringify(entry.toString())}`, files, blame: CONFIG, mustRefuse: true };
    }
  }
  files.set(CONFIG, Buffer.from(JSON.stringify(config, null, 2)));
  return { mutation, detail, files, blame: CONFIG };
}
