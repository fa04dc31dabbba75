/** A damaged or mismatched model folder gives a specific error naming the file and the tensor or field. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadModel } from '../../src/engine/loadModel';
import { header, isError, scratchModel, writeWithHeader } from '../helpers/scratchModel';

const SOURCE = 'qwen2-tiny-random';

function expectError(dir: string, code: string, ...fragments: string[]): void {
  assert.throws(() => loadModel(dir), (err: unknown) => isError(err, code, ...fragments));
}

describe('loader faults', () => {
  let dir: string;
  let weights: string;
  beforeEach(() => {
    dir = scratchModel(SOURCE);
    weights = path.join(dir, 'model.safetensors');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('truncated file', () => {
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    expectError(dir, 'BAD_SAFETENSORS', 'model.safetensors', 'outside');
  });

  it('header length beyond the file', () => {
    const bytes = fs.readFileSync(weights);
    bytes.writeBigUInt64LE(BigInt(bytes.length * 2), 0);
    fs.writeFileSync(weights, bytes);
    expectError(dir, 'BAD_SAFETENSORS', 'model.safetensors', 'header length');
  });

  it('header that is not JSON', () => {
    const { length, data } = header(weights);
    const bytes = Buffer.alloc(8 + length, 0x7b); // '{{{{…'
    bytes.writeBigUInt64LE(BigInt(length), 0);
    fs.writeFileSync(weights, Buffer.concat([bytes, data]));
    expectError(dir, 'BAD_SAFETENSORS', 'not valid JSON');
  });

  it('unknown dtype', () => {
    const { json, data } = header(weights);
    json['model.norm.weight'].dtype = 'F31';
    writeWithHeader(weights, json, data);
    expectError(dir, 'BAD_SAFETENSORS', 'model.norm.weight', 'F31');
  });

  it('overlapping tensors', () => {
    const { json, data } = header(weights);
    json['model.extra'] = { ...json['model.norm.weight'] };
    writeWithHeader(weights, json, data);
    expectError(dir, 'BAD_SAFETENSORS', 'overlap', 'model.extra');
  });

  it('missing tensor', () => {
    const { json, data } = header(weights);
    const name = 'model.layers.1.mlp.up_proj.weight';
    const [begin, end] = json[name].data_offsets;
    delete json[name];
    for (const t of Object.values(json)) if (t.data_offsets?.[0] >= end) t.data_offsets = t.data_offsets.map((o) => o - (end - begin));
    writeWithHeader(weights, json, Buffer.concat([data.subarray(0, begin), data.subarray(end)]));
    expectError(dir, 'MISSING_TENSOR', name);
  });

  it('shape that disagrees with config.json', () => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.intermediate_size = 48;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expectError(dir, 'SHAPE_MISMATCH', 'model.layers.0.mlp.gate_proj.weight', '[64, 32]', '[48, 32]');
  });

  it('unsupported model_type', () => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.model_type = 'mamba';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expectError(dir, 'UNSUPPORTED_ARCHITECTURE', 'mamba', 'config.json');
  });

  it('missing config field', () => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    delete config.hidden_size;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expectError(dir, 'BAD_CONFIG', 'hidden_size');
  });

  it('folder without config.json', () => {
    fs.rmSync(path.join(dir, 'config.json'));
    expectError(dir, 'BAD_MODEL_FOLDER', 'config.json');
  });

  it('folder without weights', () => {
    fs.rmSync(weights);
    expectError(dir, 'BAD_MODEL_FOLDER', 'model.safetensors');
  });

  it('sharded checkpoint loads like the single file', () => {
    const { json, data } = header(weights);
    const names = Object.keys(json).filter((n) => n !== '__metadata__');
    const halves = [names.slice(0, names.length / 2), names.slice(names.length / 2)];
    const weightMap: Record<string, string> = {};
    halves.forEach((part, i) => {
      const shard = `model-0000${i + 1}-of-00002.safetensors`;
      const shardHeader: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      let offset = 0;
      for (const name of part) {
        const [b, e] = json[name].data_offsets;
        shardHeader[name] = { ...json[name], data_offsets: [offset, offset + e - b] };
        chunks.push(data.subarray(b, e));
        offset += e - b;
        weightMap[name] = shard;
      }
      writeWithHeader(path.join(dir, shard), shardHeader, Buffer.concat(chunks));
    });
    fs.rmSync(weights);
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const loaded = loadModel(dir);
    assert.strictEqual(loaded.model.info.numKvHeads, 2);
  });
});
