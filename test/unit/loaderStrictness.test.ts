/**
 * The damage the issue-14 fuzzing run found accepted or crashing, each refused before any allocation
 * with an error that names the file and the field or tensor: safetensors layout faults the format
 * forbids, shard paths out of the folder, config numbers out of range or larger than the weights.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadModel } from '../../src/engine/loadModel';
import { editJson, header, isError, scratchModel, writeWithHeader } from '../helpers/scratchModel';

function refused(dir: string, code: string, ...fragments: string[]): void {
  assert.throws(() => loadModel(dir), (err: unknown) => isError(err, code, ...fragments));
}

describe('loader strictness', () => {
  const dirs: string[] = [];
  const scratch = (source = 'qwen2-tiny-random') => {
    const dir = scratchModel(source);
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  describe('safetensors, as strict as the reference implementation', () => {
    it('a header length short by 1 to 5 bytes (inside the padding) no longer shifts every tensor into NaN', () => {
      const dir = scratch();
      const file = path.join(dir, 'model.safetensors');
      const { json, data } = header(file);
      const text = JSON.stringify(json);
      const padded = Buffer.from(text + ' '.repeat(6));
      for (const short of [1, 2, 3, 4, 5]) {
        const bytes = Buffer.concat([Buffer.alloc(8), padded, data]);
        bytes.writeBigUInt64LE(BigInt(padded.length - short), 0);
        fs.writeFileSync(file, bytes);
        refused(dir, 'BAD_SAFETENSORS', 'model.safetensors', `${short} bytes after the last tensor`);
      }
    });

    it('bytes after the last tensor, a hole before the first, and a hole between two', () => {
      const dir = scratch();
      const file = path.join(dir, 'model.safetensors');
      const original = fs.readFileSync(file);
      fs.writeFileSync(file, Buffer.concat([original, Buffer.alloc(3)]));
      refused(dir, 'BAD_SAFETENSORS', '3 bytes after the last tensor');
      fs.writeFileSync(file, original);
      const { json, data } = header(file);
      for (const t of Object.values(json)) if (t.data_offsets) t.data_offsets = t.data_offsets.map((o) => o + 8);
      writeWithHeader(file, json, Buffer.concat([Buffer.alloc(8), data]));
      refused(dir, 'BAD_SAFETENSORS', '8 bytes before the first tensor');
    });

    it('a header that is not UTF-8, or does not start with "{"', () => {
      const dir = scratch();
      const file = path.join(dir, 'model.safetensors');
      const bytes = fs.readFileSync(file);
      const length = Number(bytes.readBigUInt64LE(0));
      const bad = Buffer.from(bytes);
      bad[8 + length - 1] = 0xff;
      fs.writeFileSync(file, bad);
      refused(dir, 'BAD_SAFETENSORS', 'not valid UTF-8');
      const shifted = Buffer.concat([bytes.subarray(0, 8), Buffer.from(' '), bytes.subarray(8, 8 + length - 1), bytes.subarray(8 + length)]);
      fs.writeFileSync(file, shifted);
      refused(dir, 'BAD_SAFETENSORS', 'does not start with "{"');
    });

    it('a folder where the weights file should be', () => {
      const dir = scratch();
      fs.rmSync(path.join(dir, 'model.safetensors'));
      fs.mkdirSync(path.join(dir, 'model.safetensors'));
      refused(dir, 'BAD_MODEL_FOLDER', 'model.safetensors is a folder');
    });

    it('q, k and v stored in different 16-bit dtypes load (stacked as float32)', () => {
      const dir = scratch('qwen2-tiny-random-f16');
      const file = path.join(dir, 'model.safetensors');
      const { json, data } = header(file);
      json['model.layers.0.self_attn.k_proj.weight'].dtype = 'BF16';
      writeWithHeader(file, json, data);
      assert.strictEqual(loadModel(dir).model.info.numLayers, 2);
    });
  });

  describe('sharded indexes', () => {
    for (const shard of ['../../etc/passwd', '/etc/passwd', '.', '..', '', 7, null]) {
      it(`refuses the shard name ${JSON.stringify(shard)}`, () => {
        const dir = scratch();
        fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, 'model-00001-of-00001.safetensors'));
        const names = Object.keys(header(path.join(dir, 'model-00001-of-00001.safetensors')).json).filter((n) => n !== '__metadata__');
        const weightMap = Object.fromEntries(names.map((n) => [n, 'model-00001-of-00001.safetensors']));
        weightMap[names[0]] = shard as string;
        fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
        refused(dir, 'BAD_MODEL_FOLDER', 'model.safetensors.index.json', `weight_map["${names[0]}"]`);
      });
    }
  });

  describe('config.json: every number range-checked, every size bounded by the weights', () => {
    const cases: [string, string, (c: Record<string, unknown>) => void, string[]][] = [
      ['negative rms_norm_eps', 'qwen2-tiny-random', (c) => (c.rms_norm_eps = -1e-6), ['"rms_norm_eps"', 'positive']],
      ['rope_theta 1e-300', 'llama-stories260K', (c) => (c.rope_theta = 1e-300), ['"rope_theta"']],
      ['rope factor "abc"', 'llama-stories260K', (c) => (c.rope_scaling = { rope_type: 'linear', factor: 'abc' }), ['"rope_scaling.factor"']],
      ['rope factor []', 'llama-stories260K', (c) => (c.rope_parameters = { rope_type: 'linear', factor: [] }), ['"rope_parameters.factor"']],
      ['rope factor 0', 'llama-stories260K', (c) => (c.rope_parameters = { rope_type: 'linear', factor: 0 }), ['"rope_parameters.factor"']],
      ['rope_parameters "x"', 'qwen2-tiny-random', (c) => (c.rope_parameters = 'x'), ['"rope_parameters"', 'must be an object']],
      ['negative layer_norm_eps', 'bert-tiny-random', (c) => (c.layer_norm_eps = -1e-12), ['"layer_norm_eps"']],
      ['2^32 layers', 'llama-stories260K', (c) => (c.num_hidden_layers = 2 ** 32), ['"num_hidden_layers"', 'larger than any model has']],
      ['more layers than the weights hold', 'llama-stories260K', (c) => (c.num_hidden_layers = 1000), ['"num_hidden_layers"', 'holds 5 layers', 'model.layers.4']],
      ['head_dim 1e12', 'llama-stories260K', (c) => (c.head_dim = 1e12), ['"head_dim"']],
      ['head_dim larger than any tensor', 'llama-stories260K', (c) => (c.head_dim = 4096), ['"head_dim"', 'no tensor in model.safetensors has a dimension that large']],
      ['hidden size larger than any tensor', 'gpt2-tiny-random', (c) => (c.n_embd = 2 ** 20), ['"n_embd"']],
      ['decoder layers past the weights', 't5-tiny-random', (c) => (c.num_decoder_layers = 9), ['"num_decoder_layers"', 'decoder layers']],
      ['decoder_start_token_id outside the vocabulary', 't5-tiny-random', (c) => (c.decoder_start_token_id = 5000), ['"decoder_start_token_id"', 'outside the vocabulary']],
      ['relative_attention_max_distance inside the exact buckets', 't5-tiny-random', (c) => (c.relative_attention_max_distance = 16), ['"relative_attention_max_distance"']],
    ];
    for (const [name, source, change, fragments] of cases) {
      it(name, () => {
        const dir = scratch(source);
        editJson(dir, 'config.json', change);
        refused(dir, 'BAD_CONFIG', 'config.json', ...fragments);
      });
    }

    it('a folder named config.json', () => {
      const dir = scratch();
      fs.rmSync(path.join(dir, 'config.json'));
      fs.mkdirSync(path.join(dir, 'config.json'));
      refused(dir, 'BAD_CONFIG', 'config.json is a folder');
    });
  });
});
