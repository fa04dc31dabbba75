#!/usr/bin/python3
"""PyTorch eager side of the CPU benchmarks, with the same line protocol as ourPeer.js.

Loads GPT-2 or Qwen2 from the same model.safetensors (header parsed with the standard library,
tensors with numpy; bfloat16 widened to float32, as transformers computes a float32 model) and runs
the forward pass Hugging Face transformers runs in eager mode with output_attentions=True. GPT-2:
Conv1D as addmm, q·kᵀ / √d, the causal mask by torch.where with the dtype's minimum, softmax, every
probability kept, P·V, gelu_new, ln_f and the tied LM head. Qwen2: RMSNorm, q/k/v with bias, rotate-half
RoPE, grouped key/value heads repeated, the same masked softmax, SwiGLU, the tied LM head.

Usage: /usr/bin/python3 bench/cpu/torchPeer.py FOLDER THREADS   (cpuVsTorch.js sets the OpenBLAS it loads)
"""
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch


def load_safetensors(path):
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        start, end = entry['data_offsets']
        if entry['dtype'] == 'F32':
            array = np.frombuffer(data, dtype=np.float32, count=(end - start) // 4, offset=start).copy()
        elif entry['dtype'] == 'BF16':
            bits = np.frombuffer(data, dtype=np.uint16, count=(end - start) // 2, offset=start)
            array = (bits.astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f'{name}: {entry["dtype"]} is not read here')
        tensors[name] = torch.from_numpy(array.reshape(entry['shape']))
    return tensors


class Gpt2:
    def __init__(self, folder):
        self.config = json.load(open(os.path.join(folder, 'config.json')))
        self.w = load_safetensors(os.path.join(folder, 'model.safetensors'))
        self.heads = self.config['n_head']
        self.eps = self.config['layer_norm_epsilon']
        positions = self.config['n_positions']
        self.causal = torch.tril(torch.ones((positions, positions), dtype=torch.bool)).view(1, 1, positions, positions)

    def conv1d(self, x, name):
        size_out = x.size()[:-1] + (self.w[name + '.weight'].size(-1),)
        x = torch.addmm(self.w[name + '.bias'], x.view(-1, x.size(-1)), self.w[name + '.weight'])
        return x.view(size_out)

    def layer_norm(self, x, name):
        return torch.nn.functional.layer_norm(x, (x.size(-1),), self.w[name + '.weight'], self.w[name + '.bias'], self.eps)

    def split_heads(self, x):
        return x.view(x.size()[:-1] + (self.heads, x.size(-1) // self.heads)).permute(0, 2, 1, 3)

    def attention(self, x, prefix):
        query, key, value = self.conv1d(x, prefix + 'attn.c_attn').split(x.size(-1), dim=2)
        query, key, value = self.split_heads(query), self.split_heads(key), self.split_heads(value)
        weights = torch.matmul(query, key.transpose(-1, -2))
        weights = weights / torch.full([], value.size(-1) ** 0.5, dtype=weights.dtype)
        length = query.size(-2)
        mask_value = torch.full([], torch.finfo(weights.dtype).min, dtype=weights.dtype)
        weights = torch.where(self.causal[:, :, :length, :length], weights, mask_value)
        probs = torch.nn.functional.softmax(weights, dim=-1)
        out = torch.matmul(probs, value).permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (out.size(-2) * out.size(-1),))
        return self.conv1d(out, prefix + 'attn.c_proj'), probs

    @staticmethod
    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    def forward(self, ids):
        ids = torch.tensor([ids], dtype=torch.long)
        h = self.w['wte.weight'][ids] + self.w['wpe.weight'][torch.arange(ids.size(1)).unsqueeze(0)]
        attentions = []
        for layer in range(self.config['n_layer']):
            p = f'h.{layer}.'
            a, probs = self.attention(self.layer_norm(h, p + 'ln_1'), p)
            attentions.append(probs)
            h = h + a
            m = self.conv1d(self.gelu_new(self.conv1d(self.layer_norm(h, p + 'ln_2'), p + 'mlp.c_fc')), p + 'mlp.c_proj')
            h = h + m
        h = self.layer_norm(h, 'ln_f')
        logits = torch.nn.functional.linear(h, self.w['wte.weight'])
        return logits, attentions


class Qwen2:
    def __init__(self, folder):
        self.config = json.load(open(os.path.join(folder, 'config.json')))
        self.w = load_safetensors(os.path.join(folder, 'model.safetensors'))
        c = self.config
        self.heads, self.kv_heads = c['num_attention_heads'], c['num_key_value_heads']
        self.head_dim = c.get('head_dim') or c['hidden_size'] // self.heads
        self.eps = c['rms_norm_eps']
        self.inv_freq = 1.0 / (c['rope_theta'] ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))

    def rms_norm(self, x, name):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.w[name] * (x * torch.rsqrt(variance + self.eps))

    def linear(self, x, name, bias=False):
        return torch.nn.functional.linear(x, self.w[name + '.weight'], self.w[name + '.bias'] if bias else None)

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def attention(self, x, prefix, cos, sin, mask):
        length = x.size(1)
        shape = lambda t, heads: t.view(1, length, heads, self.head_dim).transpose(1, 2)
        q = shape(self.linear(x, prefix + 'q_proj', True), self.heads)
        k = shape(self.linear(x, prefix + 'k_proj', True), self.kv_heads)
        v = shape(self.linear(x, prefix + 'v_proj', True), self.kv_heads)
        q, k = q * cos + self.rotate_half(q) * sin, k * cos + self.rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        weights = torch.matmul(q, k.transpose(2, 3)) * self.head_dim ** -0.5 + mask
        probs = torch.nn.functional.softmax(weights, dim=-1, dtype=torch.float32)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(1, length, -1)
        return self.linear(out, prefix + 'o_proj'), probs

    def forward(self, ids):
        ids = torch.tensor([ids], dtype=torch.long)
        length = ids.size(1)
        h = self.w['model.embed_tokens.weight'][ids]
        angles = torch.outer(torch.arange(length, dtype=torch.float32), self.inv_freq)
        emb = torch.cat((angles, angles), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((length, length), torch.finfo(torch.float32).min).triu(1)[None, None]
        attentions = []
        for layer in range(self.config['num_hidden_layers']):
            p = f'model.layers.{layer}.'
            a, probs = self.attention(self.rms_norm(h, p + 'input_layernorm.weight'), p + 'self_attn.', cos, sin, mask)
            attentions.append(probs)
            h = h + a
            m = self.rms_norm(h, p + 'post_attention_layernorm.weight')
            m = self.linear(torch.nn.functional.silu(self.linear(m, p + 'mlp.gate_proj')) * self.linear(m, p + 'mlp.up_proj'), p + 'mlp.down_proj')
            h = h + m
        h = self.rms_norm(h, 'model.norm.weight')
        logits = torch.nn.functional.linear(h, self.w['model.embed_tokens.weight'])
        return logits, attentions


def sample_last_layer(probs, tokens):
    """The rows bench/agreement.js samples: every head at queries 0, T/3, T/2 and T-1."""
    rows = sorted(set([0, tokens // 3, tokens // 2, tokens - 1]))
    sampled = [probs[h, r].tolist() for h in range(probs.size(0)) for r in rows]
    return {'rows': rows, 'probs': sampled, 'mean_row_max': probs.max(dim=-1).values.mean().item()}


def main():
    folder, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    model_type = json.load(open(os.path.join(folder, 'config.json')))['model_type']
    model = {'gpt2': Gpt2, 'qwen2': Qwen2}[model_type](folder)
    vocab = model.config['vocab_size']
    print(json.dumps({'ready': True, 'backend': f'PyTorch {torch.__version__} eager, {torch.get_num_threads()} threads'}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get('peak'):
            print(json.dumps({'peak_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
            continue
        ids = [(i * 7919 + 13) % vocab for i in range(request['tokens'])]
        started, cpu_started = time.perf_counter(), time.process_time()
        with torch.no_grad():
            _, attentions = model.forward(ids)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        reply = {'ms': ms, 'cpu_ms': cpu_ms, 'layers': len(attentions)}
        if request.get('check'):
            reply['check'] = sample_last_layer(attentions[-1][0], request['tokens'])
        print(json.dumps(reply), flush=True)


main()
