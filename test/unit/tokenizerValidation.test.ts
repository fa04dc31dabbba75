/**
 * tokenizer.json damage that aborts the tokenizers library (a Rust panic takes the whole process down)
 * is refused before the library sees it, naming the file and the field; padding and truncation are
 * ignored as transformers ignores them for one text; errors while tokenizing name the file.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { precompiledCharsmapProblem } from '../../src/engine/loader/precompiledCharsmap';
import { createCpuBackend } from '../../src/engine/cpu/createCpuBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { HfTokenizer } from '../../src/engine/tokenizer';
import { editJson, isError, scratchModel } from '../helpers/scratchModel';
import { sharedPath } from '../helpers/shared';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('tokenizer.json validation', () => {
  const dirs: string[] = [];
  const damaged = (source: string, change: (json: Json) => void) => {
    const dir = scratchModel(source);
    dirs.push(dir);
    editJson(dir, 'tokenizer.json', change);
    return dir;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const panics: [string, string, (j: Json) => void, string][] = [
    ['a template naming an undefined special token', 'llama-stories260K', (j) => delete j.post_processor.special_tokens['<s>'], 'post_processor.single[0]'],
    ['sequence B in the single-text template', 'llama-stories260K', (j) => j.post_processor.single.push({ Sequence: { id: 'B', type_id: 0 } }), 'post_processor.single[2]'],
    ['a merge whose result is not in the vocabulary (byte-fallback BPE)', 'llama-stories260K', (j) => j.model.merges.push(['▁t', '▁the']), 'model.merges['],
    ['a continuing_subword_prefix longer than a merged piece', 'bart-tiny-random', (j) => (j.model.continuing_subword_prefix = 'xxxxxxxxxxxxxxxxxxxxx'), 'model.merges[0]'],
    ['an empty precompiled_charsmap trie', 't5-tiny-random', (j) => (precompiled(j).precompiled_charsmap = 'AAAAAGEA'), 'normalizer.precompiled_charsmap'],
    ['a precompiled_charsmap that is not base64', 't5-tiny-random', (j) => (precompiled(j).precompiled_charsmap = `${precompiled(j).precompiled_charsmap.slice(1)}!`), 'normalizer.precompiled_charsmap'],
    ['a Replace normalizer with an empty pattern', 'qwen2-tiny-random', (j) => (j.normalizer = { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { String: '' }, content: 'x' }] }), 'normalizer.normalizers[0].pattern'],
    ['a Replace normalizer whose regex matches nothing', 'qwen2-tiny-random', (j) => (j.normalizer = { type: 'Replace', pattern: { Regex: 'x?' }, content: 'y' }), 'normalizer.pattern'],
    ['an added token that the normalizer turns into nothing', 'bert-tiny-random', (j) => j.added_tokens.push({ id: 1, content: '\u0000', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }), 'added_tokens[5]'],
  ];
  for (const [name, source, change, field] of panics) {
    it(`refuses ${name}`, () => {
      const dir = damaged(source, change);
      assert.throws(() => loadModel(dir), (err: unknown) => isError(err, 'BAD_TOKENIZER', path.join(dir, 'tokenizer.json'), `"${field}`));
    });
  }

  it('passes a real charsmap, and refuses a trie larger than its blob', () => {
    const good = precompiled(JSON.parse(fs.readFileSync(sharedPath('models', 't5-tiny-random', 'tokenizer.json'), 'utf8'))).precompiled_charsmap as string;
    assert.strictEqual(precompiledCharsmapProblem(good), undefined);
    const blob = Buffer.from(good, 'base64');
    blob.writeUInt32LE(blob.length * 4, 0); // a trie larger than the blob
    assert.match(precompiledCharsmapProblem(blob.toString('base64'))!, /trie/);
  });

  it('ignores padding and truncation, as transformers does for one text', async () => {
    const dir = damaged('llama-stories260K', (j) => {
      j.padding = { strategy: { Fixed: 10_000_000 }, direction: 'Right', pad_to_multiple_of: 4294967295, pad_id: 0, pad_type_id: 0, pad_token: '<unk>' };
      j.truncation = { direction: 'Right', max_length: 4, strategy: 'LongestFirst', stride: 4 };
    });
    const enc = await HfTokenizer.load(dir).encode('Once upon a time, there was a little girl.');
    const reference = await HfTokenizer.load(sharedPath('models', 'llama-stories260K')).encode('Once upon a time, there was a little girl.');
    assert.deepStrictEqual(enc.ids, reference.ids);
  });

  it('a text the tokenizer cannot tokenize names tokenizer.json', async () => {
    const dir = damaged('bert-tiny-random', (j) => delete j.model.vocab['[UNK]']);
    await assert.rejects(HfTokenizer.load(dir).encode('\u{1F600} zzzz'), (err: unknown) => isError(err, 'BAD_TOKENIZER', path.join(dir, 'tokenizer.json'), 'Missing [UNK]'));
  });

  it('a token id past the model\'s embeddings is blamed on tokenizer.json, not the input', async () => {
    const dir = damaged('llama-stories260K', (j) => (j.model.vocab['▁t'] = 4000));
    const backend = createCpuBackend();
    try {
      await assert.rejects(inspect(loadModel(dir), backend, { text: 't t t' }, {}, { onEvent: () => undefined }), (err: unknown) => isError(err, 'BAD_TOKENIZER', 'tokenizer.json', 'the id 4000', '512 embeddings'));
    } finally {
      backend.dispose();
    }
  });
});

function precompiled(json: Json): Json {
  return json.normalizer.type === 'Precompiled' ? json.normalizer : json.normalizer.normalizers.find((n: Json) => n.type === 'Precompiled');
}
