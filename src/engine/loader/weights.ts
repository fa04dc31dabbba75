/**
 * The weights of one model folder: model.safetensors, or the shards listed in
 * model.safetensors.index.json. Tensors are read on demand and checked against the shape the
 * architecture expects, so a mismatch names the tensor, the file and both shapes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { SafetensorsIndex, TensorEntry, readSafetensorsIndex, readTensor } from './safetensors';
import { HostTensor, formatShape } from '../tensor';

export class WeightFile {
  private constructor(
    readonly folder: string,
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
      let weightMap: Record<string, string>;
      try {
        weightMap = JSON.parse(fs.readFileSync(sharded, 'utf8')).weight_map;
      } catch (err) {
        throw new EngineError('BAD_MODEL_FOLDER', `${sharded} is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof weightMap !== 'object' || weightMap === null) throw new EngineError('BAD_MODEL_FOLDER', `${sharded} has no "weight_map" object.`);
      const shards = new Map<string, SafetensorsIndex>();
      for (const [name, shardName] of Object.entries(weightMap)) {
        let index = shards.get(shardName);
        if (!index) {
          const shardFile = path.join(folder, shardName);
          if (!fs.existsSync(shardFile)) throw new EngineError('BAD_MODEL_FOLDER', `${sharded} lists shard ${shardName} for "${name}", but ${shardFile} does not exist.`);
          index = readSafetensorsIndex(shardFile);
          shards.set(shardName, index);
        }
        const entry = index.entries.get(name);
        if (!entry) throw new EngineError('MISSING_TENSOR', `${sharded} places "${name}" in ${shardName}, but that shard has no such tensor.`);
        located.set(name, { index, entry });
      }
    } else {
      throw new EngineError('BAD_MODEL_FOLDER', `${folder} has neither model.safetensors nor model.safetensors.index.json. Only safetensors weights are read (convert .bin or .gguf checkpoints with transformers' save_pretrained).`);
    }
    return new WeightFile(folder, located);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Reads a tensor and checks its shape; `expected` may hold -1 for a dimension that is free. */
  get(name: string, expected: readonly number[]): HostTensor {
    const found = this.tensors.get(name);
    if (!found) {
      throw new EngineError('MISSING_TENSOR', `Tensor "${name}" is missing from the weights in ${this.folder}. The checkpoint does not match its config.json.`);
    }
    const { shape } = found.entry;
    const matches = shape.length === expected.length && shape.every((d, i) => expected[i] === -1 || d === expected[i]);
    if (!matches) {
      throw new EngineError(
        'SHAPE_MISMATCH',
        `Tensor "${name}" in ${path.basename(found.index.file)} has shape ${formatShape(shape)}, but config.json implies ${formatShape(expected)} (${this.folder}).`,
      );
    }
    return readTensor(found.index, found.entry);
  }
}
