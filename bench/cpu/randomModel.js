#!/usr/bin/env node
/**
 * Writes a model folder with random weights (config.json + model.safetensors) for the benchmarks:
 * - `gpt2`: GPT-2 small (12 layers, 12 heads, d 768, vocab 50257), float32;
 * - `llama`: Llama-shaped (12 layers, 12 query / 4 key-value heads, d 768, SwiGLU 2048, vocab 32000,
 *   4,096 positions), float32;
 * - `qwen`: Qwen2.5-0.5B-shaped (24 layers, 14 query / 2 key-value heads of 64, d 896, SwiGLU 4864,
 *   vocab 151936, q/k/v bias, RoPE θ 1e6, 32,768 positions), bfloat16 as the Hub ships it.
 * Weights are N(0, 0.02) as GPT-2 initializes them, norms 1 and biases 0, from a fixed seed, except
 * W_Q and W_K: N(0, 0.12²), so that scaled scores spread over about ±10 and attention is peaked as in a
 * trained model (with 0.02 every row is near-uniform, and a kernel that writes a wrong row hides in it).
 * Tensors are made and written one at a time. A tokenizer.json of the same family is copied from
 * ../shared when it is there (a real GPT-2 tokenizer for gpt2), so the models read text too.
 *
 * - `llama1b`: Llama-3.2-1B-shaped (16 layers, 32 query / 8 key-value heads of 64, d 2048, SwiGLU 8192,
 *   vocab 128256, llama3 RoPE scaling), bfloat16.
 * Usage: node bench/cpu/randomModel.js gpt2|llama|qwen|llama1b FOLDER   (needs `npm run compile-tests`)
 */
const fs = require('fs');
const path = require('path');
const { SafetensorsWriter } = require('../../out/src/engine/loader/safetensors');

let state = 0x9e3779b9;
/** xorshift32 → two uniforms → Box-Muller: fast enough for 500 M values. */
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

/** A tensor to make when it is written: random N(0, std²), or filled with a constant. */
const spec = (name, shape, options = {}) => ({ name, shape, ...options });

function make(s) {
  const count = s.shape.reduce((a, b) => a * b, 1);
  const data = s.fill === undefined ? normals(count, s.std ?? STD) : new Float32Array(count).fill(s.fill);
  s.transform?.(data);
  return data;
}

/** GPT-2's fused c_attn [d, 3d] (Conv1D: columns q | k | v) with the q and k columns at QUERY_KEY_STD. */
function peakedQueryKeyColumns(d) {
  return (data) => {
    for (let row = 0; row < d; row++) {
      for (let col = 0; col < 2 * d; col++) data[row * 3 * d + col] *= QUERY_KEY_STD / STD;
    }
  };
}

function gpt2() {
  const d = 768, layers = 12, vocab = 50257, positions = 1024;
  const config = {
    model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: d, n_head: 12, n_layer: layers, n_positions: positions,
    n_ctx: positions, vocab_size: vocab, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, n_inner: null, tie_word_embeddings: true,
  };
  const tensors = [spec('wte.weight', [vocab, d]), spec('wpe.weight', [positions, d])];
  for (let l = 0; l < layers; l++) {
    const p = `h.${l}.`;
    tensors.push(
      spec(`${p}ln_1.weight`, [d], { fill: 1 }), spec(`${p}ln_1.bias`, [d], { fill: 0 }),
      spec(`${p}attn.c_attn.weight`, [d, 3 * d], { transform: peakedQueryKeyColumns(d) }), spec(`${p}attn.c_attn.bias`, [3 * d], { fill: 0 }),
      spec(`${p}attn.c_proj.weight`, [d, d]), spec(`${p}attn.c_proj.bias`, [d], { fill: 0 }),
      spec(`${p}ln_2.weight`, [d], { fill: 1 }), spec(`${p}ln_2.bias`, [d], { fill: 0 }),
      spec(`${p}mlp.c_fc.weight`, [d, 4 * d]), spec(`${p}mlp.c_fc.bias`, [4 * d], { fill: 0 }),
      spec(`${p}mlp.c_proj.weight`, [4 * d, d]), spec(`${p}mlp.c_proj.bias`, [d], { fill: 0 }),
    );
  }
  tensors.push(spec('ln_f.weight', [d], { fill: 1 }), spec('ln_f.bias', [d], { fill: 0 }));
  return { config, tensors, tokenizerFrom: 'gpt2-tiny-random' };
}

/** A Llama-family decoder (Llama, Qwen2) with peaked W_Q / W_K. */
function llamaFamily(shape) {
  const { d, layers, heads, kvHeads, headDim, inter, vocab, bias, dtype } = shape;
  const tensors = [spec('model.embed_tokens.weight', [vocab, d], { dtype })];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      spec(`${p}input_layernorm.weight`, [d], { fill: 1, dtype }),
      spec(`${p}self_attn.q_proj.weight`, [heads * headDim, d], { std: QUERY_KEY_STD, dtype }),
      spec(`${p}self_attn.k_proj.weight`, [kvHeads * headDim, d], { std: QUERY_KEY_STD, dtype }),
      spec(`${p}self_attn.v_proj.weight`, [kvHeads * headDim, d], { dtype }),
      ...(bias ? [
        spec(`${p}self_attn.q_proj.bias`, [heads * headDim], { fill: 0, dtype }),
        spec(`${p}self_attn.k_proj.bias`, [kvHeads * headDim], { fill: 0, dtype }),
        spec(`${p}self_attn.v_proj.bias`, [kvHeads * headDim], { fill: 0, dtype }),
      ] : []),
      spec(`${p}self_attn.o_proj.weight`, [d, heads * headDim], { dtype }),
      spec(`${p}post_attention_layernorm.weight`, [d], { fill: 1, dtype }),
      spec(`${p}mlp.gate_proj.weight`, [inter, d], { dtype }),
      spec(`${p}mlp.up_proj.weight`, [inter, d], { dtype }),
      spec(`${p}mlp.down_proj.weight`, [d, inter], { dtype }),
    );
  }
  tensors.push(spec('model.norm.weight', [d], { fill: 1, dtype }));
  return tensors;
}

function llama() {
  const shape = { d: 768, layers: 12, heads: 12, kvHeads: 4, headDim: 64, inter: 2048, vocab: 32000, bias: false };
  const config = {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: shape.d, num_hidden_layers: shape.layers, num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads, head_dim: shape.headDim, intermediate_size: shape.inter, vocab_size: shape.vocab, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false,
  };
  return { config, tensors: llamaFamily(shape), tokenizerFrom: 'llama-stories260K' };
}

function qwen() {
  const shape = { d: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, inter: 4864, vocab: 151936, bias: true, dtype: 'BF16' };
  // The fields of Qwen/Qwen2.5-0.5B's config.json that the shape and the math depend on.
  const config = {
    model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: shape.d, num_hidden_layers: shape.layers, num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads, intermediate_size: shape.inter, vocab_size: shape.vocab, max_position_embeddings: 32768,
    rms_norm_eps: 1e-6, rope_theta: 1000000, hidden_act: 'silu', tie_word_embeddings: true, torch_dtype: 'bfloat16',
    use_sliding_window: false, sliding_window: 32768, max_window_layers: 24, bos_token_id: 151643, eos_token_id: 151643,
  };
  return { config, tensors: llamaFamily(shape), tokenizerFrom: 'qwen2-tiny-random' };
}

/** Llama-3.2-1B-shaped, bfloat16 as the Hub ships it: 1.24 B parameters, more than the CPU kernels' 4 GiB as float32. */
function llama1b() {
  const shape = { d: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, inter: 8192, vocab: 128256, bias: false, dtype: 'BF16' };
  // The fields of meta-llama/Llama-3.2-1B's config.json that the shape and the math depend on.
  const config = {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: shape.d, num_hidden_layers: shape.layers, num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads, head_dim: shape.headDim, intermediate_size: shape.inter, vocab_size: shape.vocab, max_position_embeddings: 131072,
    rms_norm_eps: 1e-5, rope_theta: 500000, hidden_act: 'silu', tie_word_embeddings: true, attention_bias: false, mlp_bias: false, torch_dtype: 'bfloat16',
    rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  };
  return { config, tensors: llamaFamily(shape), tokenizerFrom: 'llama-stories260K' };
}

const [kind, folder] = process.argv.slice(2);
const models = { gpt2, llama, qwen, llama1b };
if (!models[kind] || !folder) {
  console.error('usage: node bench/cpu/randomModel.js gpt2|llama|qwen|llama1b FOLDER');
  process.exit(2);
}
const { config, tensors, tokenizerFrom } = models[kind]();
fs.mkdirSync(folder, { recursive: true });
fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
const writer = new SafetensorsWriter(path.join(folder, 'model.safetensors'));
try {
  for (const s of tensors) writer.add({ name: s.name, shape: s.shape, data: make(s), dtype: s.dtype });
  writer.finish();
} finally {
  writer.dispose();
}
const tokenizer = path.resolve(__dirname, '..', '..', '..', 'shared', 'models', tokenizerFrom, 'tokenizer.json');
if (fs.existsSync(tokenizer)) fs.copyFileSync(tokenizer, path.join(folder, 'tokenizer.json'));
