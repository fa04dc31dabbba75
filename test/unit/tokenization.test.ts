/** Every line of ../shared/tokenization/*.jsonl: ids, tokens and UTF-16 offsets exactly as transformers. */
import * as assert from 'assert';
import * as fs from 'fs';
import { HfTokenizer, codePointToUtf16Map } from '../../src/engine/tokenizer';
import { sharedPath } from '../helpers/shared';

const MODELS = ['gpt2-tiny-random', 'llama-stories260K', 'bert-tiny-random', 'qwen2-tiny-random', 't5-tiny-random', 'bart-tiny-random'];

describe('tokenization against transformers', () => {
  for (const model of MODELS) {
    it(`${model}: every reference line`, async () => {
      const tokenizer = HfTokenizer.load(sharedPath('models', model));
      const lines = fs.readFileSync(sharedPath('tokenization', `${model}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= 40, `expected at least 40 lines, found ${lines.length}`);
      for (const [i, ref] of lines.entries()) {
        const enc = await tokenizer.encode(ref.text);
        const where = `line ${i + 1} (${JSON.stringify(ref.text.slice(0, 40))})`;
        assert.deepStrictEqual(enc.ids, ref.input_ids, `${where}: ids`);
        assert.deepStrictEqual(enc.tokens, ref.tokens, `${where}: tokens`);
        assert.deepStrictEqual(enc.offsetsUtf16, ref.offsets_utf16, `${where}: offsets_utf16`);
      }
    });
  }

  it('fixture texts tokenize to the fixture input_ids', async () => {
    for (const model of ['gpt2-tiny-random', 'llama-stories260K', 'bert-tiny-random', 'qwen2-tiny-random']) {
      const tokenizer = HfTokenizer.load(sharedPath('models', model));
      for (const file of fs.readdirSync(sharedPath('fixtures', model)).filter((f) => f.endsWith('.json'))) {
        const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', model, file), 'utf8'));
        const enc = await tokenizer.encode(meta.text);
        assert.deepStrictEqual(enc.ids, meta.input_ids, `${model}/${file}`);
        assert.deepStrictEqual(enc.offsetsUtf16, meta.offsets_utf16, `${model}/${file} offsets`);
      }
    }
  });

  it('maps code points to UTF-16 across astral characters', () => {
    const map = codePointToUtf16Map('a😀b');
    assert.deepStrictEqual(Array.from(map), [0, 1, 3, 4]);
  });
});
