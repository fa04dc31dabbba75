/**
 * Damage to tokenizer.json: the triggers known to abort the tokenizers library (a BPE merge that is not
 * in the vocabulary, a damaged precompiled_charsmap, a template naming a missing special token, a
 * Replace with an empty pattern, truncation with stride ≥ max_length, padding to millions), random
 * edits anywhere in the JSON tree, flipped bytes, and a folder in its place.
 */
import type { FileEntry, Mutated } from '../plan';
import type { Rng } from '../rng';

const TOKENIZER = 'tokenizer.json';
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const ODD: readonly unknown[] = [0, -1, 1.5, 2 ** 32, 1e300, '', 'x', '\u0000', null, true, [], {}, [[]], { type: 'X' }, 'Sequence'];
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A random path into the tree, and the container and key at its end. */
function randomSpot(rng: Rng, root: Json): { parent: Json | unknown[]; key: string | number; path: string } {
  let parent: Json | unknown[] = root;
  let key: string | number = rng.pick(Object.keys(root));
  let path = String(key);
  for (let depth = 0; depth < 8; depth++) {
    const value: unknown = (parent as Json)[key as string];
    const keys = Array.isArray(value) ? value.map((_, i) => i) : isObject(value) ? Object.keys(value) : [];
    if (!keys.length || rng.chance(0.25)) break;
    parent = value as Json | unknown[];
    key = rng.pick<string | number>(keys);
    path += typeof key === 'number' ? `[${key}]` : `.${key}`;
  }
  return { parent, key, path };
}

/** Every component of a normalizer/pre-tokenizer/post-processor/decoder, Sequences included. */
function components(value: unknown, partsKey: string): Json[] {
  if (!isObject(value)) return [];
  const parts = value[partsKey];
  return [value, ...(Array.isArray(parts) ? parts.flatMap((p) => components(p, partsKey)) : [])];
}

function knownTrigger(rng: Rng, json: Json): string {
  const model = json.model as Json;
  const trigger = rng.pick(['merge-not-in-vocab', 'merge-longer', 'prefix-longer', 'charsmap-flip', 'charsmap-empty', 'template-missing', 'template-single-b', 'replace-empty', 'truncation-stride', 'padding-fixed', 'padding-multiple', 'unk-missing']);
  switch (trigger) {
    case 'merge-not-in-vocab':
    case 'merge-longer': {
      if (!Array.isArray(model.merges)) return `${trigger}: no merges`;
      const tokens = Object.keys(model.vocab as Json);
      const merge = trigger === 'merge-longer' ? [rng.pick(tokens), rng.pick(tokens)] : [rng.pick(tokens), 'zzz\u00e9'];
      (model.merges as unknown[]).splice(rng.int(model.merges.length + 1), 0, typeof model.merges[0] === 'string' ? merge.join(' ') : merge);
      return `${trigger}: ${JSON.stringify(merge)}`;
    }
    case 'prefix-longer':
      model.continuing_subword_prefix = 'x'.repeat(rng.between(2, 40));
      return trigger;
    case 'charsmap-flip':
    case 'charsmap-empty': {
      const precompiled = components(json.normalizer, 'normalizers').find((n) => n.type === 'Precompiled');
      if (!precompiled) return `${trigger}: no charsmap`;
      const s = precompiled.precompiled_charsmap as string;
      const at = rng.int(s.length);
      precompiled.precompiled_charsmap = trigger === 'charsmap-empty' ? rng.pick(['', 'AAAAAA==', 'AAAAAGEA']) : s.slice(0, at) + rng.pick([...BASE64]) + s.slice(at + 1);
      return `${trigger} at ${at}`;
    }
    case 'template-missing':
    case 'template-single-b': {
      const template = components(json.post_processor, 'processors').find((p) => p.type === 'TemplateProcessing');
      if (!template) return `${trigger}: no template`;
      if (trigger === 'template-single-b') (template.single as unknown[]).push({ Sequence: { id: 'B', type_id: 0 } });
      else (template.single as unknown[]).push({ SpecialToken: { id: '[MISSING]', type_id: 0 } });
      return trigger;
    }
    case 'replace-empty':
      json.normalizer = { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: rng.pick([{ String: '' }, { Regex: '' }, { Regex: 'a*' }]), content: rng.pick(['', 'x']) }, ...(json.normalizer ? [json.normalizer] : [])] };
      return trigger;
    case 'truncation-stride': {
      const max = rng.between(0, 8);
      json.truncation = { direction: 'Right', max_length: max, strategy: 'LongestFirst', stride: max + rng.between(0, 3) };
      return `${trigger}: max ${max}`;
    }
    case 'padding-fixed':
    case 'padding-multiple':
      json.padding = { strategy: trigger === 'padding-fixed' ? { Fixed: 10_000_000 } : 'BatchLongest', direction: 'Right', pad_to_multiple_of: trigger === 'padding-multiple' ? 4294967295 : null, pad_id: 0, pad_type_id: 0, pad_token: '<pad>' };
      return trigger;
    default: {
      const unk = model.unk_token ?? '[UNK]';
      if (isObject(model.vocab)) delete model.vocab[String(unk)];
      return `${trigger}: ${String(unk)}`;
    }
  }
}

export function mutateTokenizer(rng: Rng, bytes: Buffer): Mutated {
  const files = new Map<string, FileEntry>();
  const mutation = rng.pick(['known-trigger', 'known-trigger', 'set-value', 'set-value', 'delete-key', 'vocab-id', 'added-token', 'flip-byte', 'whole-file']);
  if (mutation === 'flip-byte') {
    const out = Buffer.from(bytes);
    const at = rng.int(out.length);
    out[at] = rng.chance(0.5) ? out[at] ^ (1 << rng.int(8)) : rng.pick([...Buffer.from('0123456789"{}[],:')]);
    files.set(TOKENIZER, out);
    return { mutation, detail: `byte ${at} changed`, files, blame: TOKENIZER };
  }
  if (mutation === 'whole-file') {
    const entry = rng.pick<FileEntry>(['directory', Buffer.alloc(0), Buffer.from('{}'), Buffer.from('[]'), Buffer.from('{"model": {}}')]);
    files.set(TOKENIZER, entry);
    return { mutation, detail: entry === 'directory' ? 'a folder in its place' : JSON.stringify(entry!.toString()), files, blame: TOKENIZER, mustRefuse: true };
  }
  const json = JSON.parse(bytes.toString('utf8')) as Json;
  let detail: string;
  switch (mutation) {
    case 'known-trigger':
      detail = knownTrigger(rng, json);
      break;
    case 'set-value': {
      const spot = randomSpot(rng, json);
      const value = rng.pick(ODD);
      (spot.parent as Json)[spot.key as string] = value;
      detail = `${spot.path} = ${JSON.stringify(value)}`;
      break;
    }
    case 'delete-key': {
      const spot = randomSpot(rng, json);
      if (Array.isArray(spot.parent)) spot.parent.splice(spot.key as number, 1);
      else delete spot.parent[spot.key as string];
      detail = `${spot.path} removed`;
      break;
    }
    case 'vocab-id': {
      const model = json.model as Json;
      const vocab = model.vocab;
      if (isObject(vocab)) {
        const token = rng.pick(Object.keys(vocab));
        vocab[token] = rng.pick([-1, 2 ** 32 - 1, 2 ** 31, 1e6, 0, 1.5, 'x']);
        detail = `vocab[${JSON.stringify(token)}] = ${JSON.stringify(vocab[token])}`;
      } else if (Array.isArray(vocab)) {
        const at = rng.int(vocab.length);
        vocab[at] = rng.pick([['', 0], ['x', 'y'], [null, 1], 7, ['a', 1e308 * 10]]);
        detail = `vocab[${at}] = ${JSON.stringify(vocab[at])}`;
      } else {
        detail = 'no vocab';
      }
      break;
    }
    default: {
      const added = json.added_tokens as Json[];
      const token = { id: rng.pick([0, 1, 2 ** 31, 2 ** 32 - 1, -1]), content: rng.pick(['', ' ', 'zz', '<s>', '\u0000', 'a'.repeat(300)]), single_word: rng.chance(0.5), lstrip: rng.chance(0.5), rstrip: rng.chance(0.5), normalized: rng.chance(0.5), special: rng.chance(0.5) };
      added.push(token);
      detail = `added token ${JSON.stringify(token)}`;
    }
  }
  files.set(TOKENIZER, Buffer.from(JSON.stringify(json)));
  const trigger = detail.split(/[: ]/)[0];
  const applied = mutation === 'known-trigger' && !detail.includes(': no ');
  const mustRefuse = applied && ['template-missing', 'template-single-b', 'merge-not-in-vocab', 'charsmap-empty'].includes(trigger);
  return { mutation: mutation === 'known-trigger' ? `known:${trigger}` : mutation, detail, files, blame: TOKENIZER, mustRefuse };
}
