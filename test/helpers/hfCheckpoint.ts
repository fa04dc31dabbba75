/**
 * Random checkpoints laid out as the Hugging Face ones are: for a config, the tensor names and shapes a
 * real checkpoint of that model_type holds (written from transformers' module names, independently of
 * the engine's loaders), filled with seeded bfloat16 values and saved as safetensors.
 */
import * as fs from 'fs';
import { parseConfig } from '../../src/engine/loader/config';
import type { Raw } from '../../src/engine/loader/configReader';
import { seeded } from './kernelSweep';

export type TensorShapes = [name: string, shape: number[]][];

function int(raw: Raw, ...fields: string[]): number {
  for (const f of fields) if (typeof raw[f] === 'number') return raw[f] as number;
  throw new Error(`none of ${fields.join(', ')} in the config`);
}

/** The tensors of a (one-layer) checkpoint of this config, as transformers saves them. */
export function hfTensorShapes(raw: Raw): TensorShapes {
  const c = parseConfig(raw, 'config.json');
  const { hiddenSize: D, vocabSize: V, intermediateSize: F, numHeads: H, headDim: hd } = c;
  const Hkv = 'numKvHeads' in c ? c.numKvHeads : H;
  const out: TensorShapes = [];
  const add = (name: string, shape: number[]) => out.push([name, shape]);
  const layers = c.numLayers;
  const type = raw.model_type as string;
  switch (type) {
    case 'gpt2':
      add('transformer.wte.weight', [V, D]);
      add('transformer.wpe.weight', [c.maxPositions, D]);
      for (let l = 0; l < layers; l++) {
        const p = `transformer.h.${l}.`;
        for (const n of ['ln_1', 'ln_2']) add(`${p}${n}.weight`, [D]), add(`${p}${n}.bias`, [D]);
        add(`${p}attn.c_attn.weight`, [D, 3 * D]), add(`${p}attn.c_attn.bias`, [3 * D]);
        add(`${p}attn.c_proj.weight`, [D, D]), add(`${p}attn.c_proj.bias`, [D]);
        add(`${p}mlp.c_fc.weight`, [D, F]), add(`${p}mlp.c_fc.bias`, [F]);
        add(`${p}mlp.c_proj.weight`, [F, D]), add(`${p}mlp.c_proj.bias`, [D]);
      }
      add('transformer.ln_f.weight', [D]), add('transformer.ln_f.bias', [D]);
      return out;
    case 'gpt_neox':
      add('gpt_neox.embed_in.weight', [V, D]);
      for (let l = 0; l < layers; l++) {
        const p = `gpt_neox.layers.${l}.`;
        for (const n of ['input_layernorm', 'post_attention_layernorm']) add(`${p}${n}.weight`, [D]), add(`${p}${n}.bias`, [D]);
        add(`${p}attention.query_key_value.weight`, [3 * D, D]), add(`${p}attention.query_key_value.bias`, [3 * D]);
        add(`${p}attention.dense.weight`, [D, D]), add(`${p}attention.dense.bias`, [D]);
        add(`${p}mlp.dense_h_to_4h.weight`, [F, D]), add(`${p}mlp.dense_h_to_4h.bias`, [F]);
        add(`${p}mlp.dense_4h_to_h.weight`, [D, F]), add(`${p}mlp.dense_4h_to_h.bias`, [D]);
      }
      add('gpt_neox.final_layer_norm.weight', [D]), add('gpt_neox.final_layer_norm.bias', [D]);
      add('embed_out.weight', [V, D]);
      return out;
    case 'bert': {
      const e = 'bert.embeddings.';
      add(`${e}word_embeddings.weight`, [V, D]), add(`${e}position_embeddings.weight`, [c.maxPositions, D]);
      add(`${e}token_type_embeddings.weight`, [int(raw, 'type_vocab_size'), D]);
      add(`${e}LayerNorm.weight`, [D]), add(`${e}LayerNorm.bias`, [D]);
      for (let l = 0; l < layers; l++) {
        const p = `bert.encoder.layer.${l}.`;
        for (const n of ['query', 'key', 'value']) add(`${p}attention.self.${n}.weight`, [D, D]), add(`${p}attention.self.${n}.bias`, [D]);
        add(`${p}attention.output.dense.weight`, [D, D]), add(`${p}attention.output.dense.bias`, [D]);
        add(`${p}attention.output.LayerNorm.weight`, [D]), add(`${p}attention.output.LayerNorm.bias`, [D]);
        add(`${p}intermediate.dense.weight`, [F, D]), add(`${p}intermediate.dense.bias`, [F]);
        add(`${p}output.dense.weight`, [D, F]), add(`${p}output.dense.bias`, [D]);
        add(`${p}output.LayerNorm.weight`, [D]), add(`${p}output.LayerNorm.bias`, [D]);
      }
      return out;
    }
    case 't5': {
      const inner = H * hd;
      add('shared.weight', [V, D]);
      const attention = (p: string) => {
        for (const n of ['q', 'k', 'v']) add(`${p}.${n}.weight`, [inner, D]);
        add(`${p}.o.weight`, [D, inner]);
      };
      for (const stack of ['encoder', 'decoder']) {
        const n = stack === 'encoder' ? layers : int(raw, 'num_decoder_layers', 'num_layers');
        for (let l = 0; l < n; l++) {
          const p = `${stack}.block.${l}.layer`;
          attention(`${p}.0.SelfAttention`);
          if (l === 0) add(`${p}.0.SelfAttention.relative_attention_bias.weight`, [int(raw, 'relative_attention_num_buckets'), H]);
          add(`${p}.0.layer_norm.weight`, [D]);
          const ff = stack === 'encoder' ? 1 : 2;
          if (stack === 'decoder') attention(`${p}.1.EncDecAttention`), add(`${p}.1.layer_norm.weight`, [D]);
          add(`${p}.${ff}.DenseReluDense.wi.weight`, [F, D]), add(`${p}.${ff}.DenseReluDense.wo.weight`, [D, F]);
          add(`${p}.${ff}.layer_norm.weight`, [D]);
        }
        add(`${stack}.final_layer_norm.weight`, [D]);
      }
      return out;
    }
    case 'bart':
    case 'marian': {
      add('model.shared.weight', [V, D]);
      add('final_logits_bias', [1, V]);
      const attention = (p: string) => {
        for (const n of ['q', 'k', 'v', 'out']) add(`${p}.${n}_proj.weight`, [D, D]), add(`${p}.${n}_proj.bias`, [D]);
      };
      const norm = (p: string) => (add(`${p}.weight`, [D]), add(`${p}.bias`, [D]));
      for (const stack of ['encoder', 'decoder']) {
        if (type === 'bart') add(`model.${stack}.embed_positions.weight`, [c.maxPositions + 2, D]), norm(`model.${stack}.layernorm_embedding`);
        const n = int(raw, `${stack}_layers`);
        const ffn = int(raw, `${stack}_ffn_dim`);
        for (let l = 0; l < n; l++) {
          const p = `model.${stack}.layers.${l}`;
          attention(`${p}.self_attn`), norm(`${p}.self_attn_layer_norm`);
          if (stack === 'decoder') attention(`${p}.encoder_attn`), norm(`${p}.encoder_attn_layer_norm`);
          add(`${p}.fc1.weight`, [ffn, D]), add(`${p}.fc1.bias`, [ffn]), add(`${p}.fc2.weight`, [D, ffn]), add(`${p}.fc2.bias`, [D]);
          norm(`${p}.final_layer_norm`);
        }
      }
      return out;
    }
  }
  // The Llama-style decoders.
  const q = H * hd;
  const kv = Hkv * hd;
  add('model.embed_tokens.weight', [V, D]);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    const norms = {
      gemma2: ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm'],
      gemma3_text: ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm'],
      olmo2: ['post_attention_layernorm', 'post_feedforward_layernorm'],
    }[type] ?? ['input_layernorm', 'post_attention_layernorm'];
    for (const n of norms) add(`${p}${n}.weight`, [D]);
    if (type === 'phi3') {
      add(`${p}self_attn.qkv_proj.weight`, [q + 2 * kv, D]);
      add(`${p}mlp.gate_up_proj.weight`, [2 * F, D]);
    } else {
      add(`${p}self_attn.q_proj.weight`, [q, D]), add(`${p}self_attn.k_proj.weight`, [kv, D]), add(`${p}self_attn.v_proj.weight`, [kv, D]);
      if (type === 'qwen2' || raw.attention_bias === true) add(`${p}self_attn.q_proj.bias`, [q]), add(`${p}self_attn.k_proj.bias`, [kv]), add(`${p}self_attn.v_proj.bias`, [kv]);
      add(`${p}mlp.gate_proj.weight`, [F, D]), add(`${p}mlp.up_proj.weight`, [F, D]);
    }
    add(`${p}self_attn.o_proj.weight`, [D, q]);
    if (raw.attention_bias === true && type !== 'qwen2') add(`${p}self_attn.o_proj.bias`, [D]);
    add(`${p}mlp.down_proj.weight`, [D, F]);
    if (type === 'qwen3' || type === 'gemma3_text') add(`${p}self_attn.q_norm.weight`, [hd]), add(`${p}self_attn.k_norm.weight`, [hd]);
    if (type === 'olmo2') add(`${p}self_attn.q_norm.weight`, [q]), add(`${p}self_attn.k_norm.weight`, [kv]);
  }
  add('model.norm.weight', [D]);
  if (!c.tieWordEmbeddings) add('lm_head.weight', [V, D]);
  return out;
}

/**
 * Writes a checkpoint into `folder`: model.safetensors, or with `shards` > 1 the tensors spread over
 * model-0000i-of-0000n.safetensors with the model.safetensors.index.json that names each one's shard.
 */
export function writeRandomCheckpoint(folder: string, shapes: TensorShapes, shards = 1): void {
  if (shards === 1) return writeRandomBf16(`${folder}/model.safetensors`, shapes);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = shapes.filter((_, i) => i % shards === s);
    for (const [name] of part) weightMap[name] = file;
    writeRandomBf16(`${folder}/${file}`, part, s + 1);
  }
  fs.writeFileSync(`${folder}/model.safetensors.index.json`, JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
}

/**
 * Writes seeded values in [-0.1, 0.1) (norm weights near 1 and LayerNorm biases near 0 are not needed:
 * random ones keep every path finite) as bfloat16, the dtype real checkpoints ship, half the bytes of f32.
 */
export function writeRandomBf16(file: string, shapes: TensorShapes, seed = 1): void {
  const next = seeded(seed);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const fd = fs.openSync(file, 'w');
  try {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    fs.writeSync(fd, length);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    const scratch = new Float32Array(1);
    const bits = new Uint32Array(scratch.buffer);
    for (const [, shape] of shapes) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = new Uint16Array(count);
      for (let i = 0; i < count; i++) {
        scratch[0] = (next() * 2 - 1) * 0.1;
        data[i] = bits[0] >>> 16;
      }
      fs.writeSync(fd, new Uint8Array(data.buffer));
    }
  } finally {
    fs.closeSync(fd);
  }
}
