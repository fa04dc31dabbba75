#!/usr/bin/env node
/**
 * Writes a model folder with random weights (config.json + model.safetensors, float32) for the CPU
 * benchmark: `gpt2` is GPT-2 small (12 layers, 12 heads, d 768, vocab 50257), `llama` a Llama-shaped
 * model (12 layers, 12 query / 4 key-value heads, d 768, SwiGLU 2048, vocab 32000, 4,096 positions).
 * Weights are N(0, 0.02) as GPT-2 initializes them, norms 1 and biases 0, from a fixed seed, except
 * W_Q and W_K: N(0, 0.12²), so that scaled scores spread over about ±10 and attention is peaked as in a
 * trained model (with 0.02 every row is near-uniform, and a kernel that writes a wrong row hides in it).
 *
 * Usage: node bench/cpu/randomModel.js gpt2|llama FOLDER   (needs `npm run compile-tests`)
 */
const fs = require('fs');
const path = require('path');
const { writeSafetensors } = require('../../out/src/engine/loader/safetensors');

let state = 0x9e3779b9;
/** xorshift32 → two uniforms → Box-Muller: fast enough for 124 M values. */
function normals(count, std) {
  const out = new Float32Array(count);
  const uniform = () => {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())) * std;
    const angle = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = r * Math.sin(angle);
  }
  return out;
}

const STD = 0.02;
const QUERY_KEY_STD = 0.12;

const tensor = (name, shape, fill, std = STD) => {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = fill === undefined ? normals(count, std) : new Float32Array(count).fill(fill);
  return { name, shape, data };
};

/** GPT-2's fused c_attn [d, 3d] (Conv1D: columns q | k | v) with the q and k columns at QUERY_KEY_STD. */
function fusedQkv(name, d) {
  const t = tensor(name, [d, 3 * d]);
  for (let row = 0; row < d; row++) {
    for (let col = 0; col < 2 * d; col++) t.data[row * 3 * d + col] *= QUERY_KEY_STD / STD;
  }
  return t;
}

function gpt2() {
  const d = 768, layers = 12, vocab = 50257, positions = 1024;
  const config = {
    model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: d, n_head: 12, n_layer: layers, n_positions: positions,
    n_ctx: positions, vocab_size: vocab, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, n_inner: null, tie_word_embeddings: true,
  };
  const tensors = [tensor('wte.weight', [vocab, d]), tensor('wpe.weight', [positions, d])];
  for (let l = 0; l < layers; l++) {
    const p = `h.${l}.`;
    tensors.push(
      tensor(`${p}ln_1.weight`, [d], 1), tensor(`${p}ln_1.bias`, [d], 0),
      fusedQkv(`${p}attn.c_attn.weight`, d), tensor(`${p}attn.c_attn.bias`, [3 * d], 0),
      tensor(`${p}attn.c_proj.weight`, [d, d]), tensor(`${p}attn.c_proj.bias`, [d], 0),
      tensor(`${p}ln_2.weight`, [d], 1), tensor(`${p}ln_2.bias`, [d], 0),
      tensor(`${p}mlp.c_fc.weight`, [d, 4 * d]), tensor(`${p}mlp.c_fc.bias`, [4 * d], 0),
      tensor(`${p}mlp.c_proj.weight`, [4 * d, d]), tensor(`${p}mlp.c_proj.bias`, [d], 0),
    );
  }
  tensors.push(tensor('ln_f.weight', [d], 1), tensor('ln_f.bias', [d], 0));
  return { config, tensors };
}

function llama() {
  const d = 768, layers = 12, heads = 12, kvHeads = 4, headDim = 64, inter = 2048, vocab = 32000;
  const config = {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: d, num_hidden_layers: layers, num_attention_heads: heads,
    num_key_value_heads: kvHeads, head_dim: headDim, intermediate_size: inter, vocab_size: vocab, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
  };
  const tensors = [tensor('model.embed_tokens.weight', [vocab, d])];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      tensor(`${p}input_layernorm.weight`, [d], 1),
      tensor(`${p}self_attn.q_proj.weight`, [heads * headDim, d], undefined, QUERY_KEY_STD),
      tensor(`${p}self_attn.k_proj.weight`, [kvHeads * headDim, d], undefined, QUERY_KEY_STD),
      tensor(`${p}self_attn.v_proj.weight`, [kvHeads * headDim, d]),
      tensor(`${p}self_attn.o_proj.weight`, [d, heads * headDim]),
      tensor(`${p}post_attention_layernorm.weight`, [d], 1),
      tensor(`${p}mlp.gate_proj.weight`, [inter, d]),
      tensor(`${p}mlp.up_proj.weight`, [inter, d]),
      tensor(`${p}mlp.down_proj.weight`, [d, inter]),
    );
  }
  tensors.push(tensor('model.norm.weight', [d], 1));
  return { config, tensors };
}

const [kind, folder] = process.argv.slice(2);
const models = { gpt2, llama };
if (!models[kind] || !folder) {
  console.error('usage: node bench/cpu/randomModel.js gpt2|llama FOLDER');
  process.exit(2);
}
const { config, tensors } = models[kind]();
fs.mkdirSync(folder, { recursive: true });
fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
writeSafetensors(path.join(folder, 'model.safetensors'), tensors);
