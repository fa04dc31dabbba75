/**
 * The weights of one model folder: model.safetensors, or the shards listed in
 * model.safetensors.index.json. Only the headers are held: a tensor is checked against the shape the
 * architecture expects when the model asks for it (a mismatch names the tensor, the file and both
 * shapes) and read when a backend uploads it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { readJsonObject } from './files';
import { SafetensorsIndex, TensorEntry, readSafetensorsIndex, readTensor, readTensorRows } from './safetensors';
import { HostTensor, LazyTensor, formatShape } from '../tensor';

/**
 * The index's weight_map: tensor name → shard file name. A shard must be a plain file name in the
 * model folder: a path out of it ("../…", absolute) or to the folder itself is refused, whatever the
 * index was made by.
 */
function readWeightMap(indexFile: string): Record<string, string> {
  const weightMap = readJsonObject(indexFile, 'BAD_MODEL_FOLDER').weight_map;
  const field = (name: string) => `weight_map[${JSON.stringify(name)}]`;
  function bad(name: string | undefined, why: string): never {
    throw new EngineError('BAD_MODEL_FOLDER', `${indexFile}: ${name === undefined ? '"weight_map"' : field(name)} ${why}.`, {
      remedies: ['choose-model'], details: { file: indexFile, field: name === undefined ? 'weight_map' : field(name), tensor: name },
    });
  }
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) return bad(undefined, 'must be an object mapping tensor names to shard files');
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string') bad(name, `must name a shard file, not ${JSON.stringify(shard)}`);
    const parts = shard.split(/[\\/]/);
    if (!shard || path.isAbsolute(shard) || path.win32.isAbsolute(shard) || shard.includes('\0') || parts.some((p) => p === '..' || p === '.' || p === '')) {
      bad(name, `is ${JSON.stringify(shard)}: a shard must be a file inside the model folder`);
    }
  }
  return weightMap as Record<string, string>;
}

export class WeightFile {
  private constructor(
    readonly folder: string,
    /** model.safetensors, or the index of the shards. */
    private readonly source: string,
    private readonly tensors: ReadonlyMap<string, { index: SafetensorsIndex; entry: TensorEntry }>,
  ) {}

  static open(folder: string): WeightFile {
    const single = path.join(folder, 'model.safetensors');
    const sharded = path.join(folder, 'model.safetensors.index.json');
    const located = new Map<string, { index: SafetensorsIndex; entry: TensorEntry }>();
    if (fs.existsSync(single)) {
      const index = readSafetensorsIndex(single);
      for (const entry of index.entries.values()) located.set(entry.name, { index, entry });
    } else if (fs.existsSync(sharded)) {
      const shards = new Map<string, SafetensorsIndex>();
      for (const [name, shardName] of Object.entries(readWeightMap(sharded))) {
        let index = shards.get(shardName);
        if (!index) {
          const shardFile = path.join(folder, shardName);
          if (!fs.existsSync(shardFile)) {
            throw new EngineError('BAD_MODEL_FOLDER', `${sharded} lists shard ${shardName} for "${name}", but ${shardFile} does not exist.`, { remedies: ['choose-model'], details: { file: shardFile, tensor: name } });
          }
          index = readSafetensorsIndex(shardFile);
          shards.set(shardName, index);
        }
        const entry = index.entries.get(name);
        if (!entry) throw new EngineError('MISSING_TENSOR', `${sharded} places "${name}" in ${shardName}, but that shard has no such tensor.`, { remedies: ['choose-model'], details: { file: sharded, tensor: name } });
        located.set(name, { index, entry });
      }
    } else {
      throw new EngineError('BAD_MODEL_FOLDER', `${folder} has neither model.safetensors nor model.safetensors.index.json. Only safetensors weights are read (convert .bin or .gguf checkpoints with transformers' save_pretrained).`, {
        remedies: ['choose-model'], details: { file: single },
      });
    }
    return new WeightFile(folder, fs.existsSync(single) ? single : sharded, located);
  }

  /** Where the weights are, for messages: the file, or the shards an index lists (with the full path). */
  describe(withPath = true): string {
    const name = path.basename(this.source);
    const where = withPath ? ` (${this.source})` : '';
    return name === 'model.safetensors' ? `${name}${where}` : `the shards listed in ${name}${where}`;
  }

  /** Every tensor's name, dtype and shape, from the headers alone (nothing is read). */
  entries(): TensorEntry[] {
    return [...this.tensors.values()].map((t) => t.entry);
  }

  /** The file a tensor is stored in. */
  fileOf(name: string): string | undefined {
    return this.tensors.get(name)?.index.file;
  }

  /** A tensor's values as stored, without a shape check (for scanning a damaged file). */
  read(name: string): HostTensor {
    const found = this.tensors.get(name);
    if (!found) throw new EngineError('MISSING_TENSOR', `Tensor "${name}" is missing from ${this.describe()}.`, { remedies: ['choose-model'], details: { file: this.source, tensor: name } });
    return readTensor(found.index, found.entry);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /**
   * A tensor, its shape checked now against the header (`expected` may hold -1 for a dimension that is
   * free) and its values read when a backend uploads it.
   */
  get(name: string, expected: readonly number[]): LazyTensor {
    const found = this.tensors.get(name);
    if (!found) {
      throw new EngineError('MISSING_TENSOR', `Tensor "${name}" is missing from ${this.describe()}. The checkpoint does not match its config.json.`, {
        remedies: ['choose-model'], details: { file: this.source, tensor: name },
      });
    }
    const { shape } = found.entry;
    const matches = shape.length === expected.length && shape.every((d, i) => expected[i] === -1 || d === expected[i]);
    if (!matches) {
      throw new EngineError(
        'SHAPE_MISMATCH',
        `Tensor "${name}" in ${path.basename(found.index.file)} has shape ${formatShape(shape)}, but config.json implies ${formatShape(expected)} (${this.folder}).`,
        { remedies: ['choose-model'], details: { file: found.index.file, tensor: name } },
      );
    }
    const { index, entry } = found;
    const rows = entry.shape.length === 2
      ? { dtype: entry.dtype, shape: [entry.shape[0], entry.shape[1]] as const, read: (start: number, count: number) => readTensorRows(index, entry, start, count) }
      : undefined;
    return new LazyTensor(() => readTensor(index, entry), rows);
  }
}
