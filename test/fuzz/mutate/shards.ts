/**
 * Sharded checkpoints: the model's weights split over two or three shards with an index, then the index
 * or a shard damaged (paths out of the folder, wrong or missing shards, a shard that is a folder, a
 * damaged shard file).
 */
import type { FileEntry, Mutated } from '../plan';
import type { Rng } from '../rng';
import { mutateSafetensors } from './safetensors';
import { joinSafetensors, splitSafetensors, tensorInfo, tensorNames } from './safetensorsFile';

const INDEX = 'model.safetensors.index.json';

/** The weights as `count` shards (tensors dealt out in file order) and the index that maps them. */
function shard(weights: Buffer, count: number): { shards: Map<string, Buffer>; weightMap: Record<string, string> } {
  const parts = splitSafetensors(weights);
  const names = tensorNames(parts);
  const shards = new Map<string, Buffer>();
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < count; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const name of names.slice(Math.floor((s * names.length) / count), Math.floor(((s + 1) * names.length) / count))) {
      const info = tensorInfo(parts, name);
      const [begin, end] = info.data_offsets as number[];
      header[name] = { ...info, data_offsets: [offset, offset + end - begin] };
      chunks.push(parts.data.subarray(begin, end));
      offset += end - begin;
      weightMap[name] = file;
    }
    shards.set(file, joinSafetensors({ header: header as never, data: Buffer.concat(chunks) }));
  }
  return { shards, weightMap };
}

const ESCAPES: readonly unknown[] = ['../model.safetensors', '../../../../etc/passwd', '/etc/passwd', '.', '..', '', './', 'sub/../../x.safetensors', 'C:\\x.safetensors', 7, null, [], { a: 1 }, true];

export function mutateShards(rng: Rng, weights: Buffer): Mutated {
  const { shards, weightMap } = shard(weights, rng.between(2, 3));
  const files = new Map<string, FileEntry>([['model.safetensors', null], ...shards]);
  const names = Object.keys(weightMap);
  const shardNames = [...shards.keys()];
  const index = (map: unknown, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ metadata: { total_size: weights.length }, weight_map: map, ...extra }));
  const mutation = rng.pick(['valid', 'escape', 'wrong-shard', 'missing-shard', 'shard-folder', 'damaged-shard', 'index-json', 'weight-map-type', 'drop-entry', 'unknown-tensor', 'index-folder']);
  let detail: string;
  let blame = INDEX;
  let mustRefuse = !['valid', 'drop-entry', 'damaged-shard'].includes(mutation);
  const map: Record<string, unknown> = { ...weightMap };
  switch (mutation) {
    case 'valid':
      detail = `${shards.size} shards, unchanged`;
      blame = '';
      break;
    case 'escape': {
      const name = rng.pick(names);
      map[name] = rng.pick(ESCAPES);
      detail = `weight_map[${name}] = ${JSON.stringify(map[name])}`;
      break;
    }
    case 'wrong-shard': {
      const name = rng.pick(names);
      map[name] = rng.pick(shardNames.filter((s) => s !== weightMap[name]));
      detail = `${name} mapped to ${String(map[name])}`;
      break;
    }
    case 'missing-shard': {
      const gone = rng.pick(shardNames);
      files.set(gone, null);
      detail = `${gone} removed`;
      break;
    }
    case 'shard-folder': {
      const gone = rng.pick(shardNames);
      files.set(gone, 'directory');
      detail = `${gone} is a folder`;
      blame = gone;
      break;
    }
    case 'damaged-shard': {
      const target = rng.pick(shardNames);
      const damage = mutateSafetensors(rng, shards.get(target)!);
      files.set(target, damage.bytes);
      detail = `${target}: ${damage.mutation} (${damage.detail})`;
      blame = target;
      mustRefuse = damage.mustRefuse;
      break;
    }
    case 'index-json': {
      const text = index(map).toString();
      const cut = rng.int(text.length);
      files.set(INDEX, Buffer.from(rng.chance(0.5) ? text.slice(0, cut) : `${text.slice(0, cut)}\u0000${text.slice(cut + 1)}`));
      return { mutation, detail: `index damaged at ${cut}`, files, blame, mustRefuse: false };
    }
    case 'weight-map-type': {
      const value = rng.pick([null, [], 'x', 7, undefined]);
      files.set(INDEX, index(value));
      return { mutation, detail: `weight_map ${JSON.stringify(value)}`, files, blame, mustRefuse };
    }
    case 'drop-entry': {
      const name = rng.pick(names);
      delete map[name];
      detail = `${name} not in weight_map`;
      blame = '';
      break;
    }
    case 'unknown-tensor':
      map['model.not.a.tensor'] = shardNames[0];
      detail = 'weight_map names a tensor no shard has';
      break;
    default:
      files.set(INDEX, 'directory');
      return { mutation, detail: 'index is a folder', files, blame, mustRefuse };
  }
  files.set(INDEX, index(map));
  return { mutation, detail, files, blame: blame || undefined, mustRefuse };
}
