/**
 * The config zoo: real config.json files of the models people inspect (test/data/configZoo, sources in
 * its SOURCES.md), each parsed, reduced to one layer, given random bfloat16 weights of the real shapes in
 * a checkpoint laid out as the Hub's, and run for 8 tokens on the CPU reference backend: every
 * probability and logit finite, rows summing to 1, and the layer's recipe saying what the config says.
 * The larger ones are written as sharded checkpoints (an index and three shards), as the Hub has them.
 *
 * Head geometry (hidden size, heads, key/value heads, head_dim), RoPE, windows and norms stay real. The
 * vocabulary and the MLP width are cut to VOCAB_CAP and FFN_CAP: neither enters attention, and at full
 * size one layer of the larger models is up to a billion values (Gemma's 256k vocabulary, Llama's 128k),
 * too much memory and time for a unit test on a shared machine. An encoder-decoder keeps every id its
 * decoder is fed (Marian's decoder_start_token_id is 65000, so its vocabulary stays real).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import type { Raw } from '../../src/engine/loader/configReader';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent, ForwardEvent } from '../../src/engine/model';
import type { AttentionRecipe } from '../../src/protocol/run';
import { hfTensorShapes, writeRandomCheckpoint } from '../helpers/hfCheckpoint';
import { repoPath } from '../helpers/repo';

const ZOO = repoPath('test', 'data', 'configZoo');
const VOCAB_CAP = 2048;
const FFN_CAP = 1024;
const TOKENS = 8;
const SHARDED = ['Llama-3.2-1B', 'gemma-2-9b-it', 'gemma-2-2b', 'Phi-3-mini-4k-instruct'];

/** What each config must give: runs, with these recipe facts for its (first) layer. */
type Expected = Partial<Omit<AttentionRecipe, 'rope'>> & { ropeType?: string; theta?: number; rotaryDims?: number };
const EXPECTED: Record<string, Expected> = {
  'SmolLM2-135M': { ropeType: 'default', theta: 1e5, scale: 64 ** -0.5 },
  'Qwen2.5-0.5B': { ropeType: 'default', theta: 1e6, slidingWindow: undefined },
  'Llama-3.2-1B': { ropeType: 'llama3', theta: 5e5 },
  'gemma-3-1b-it': { ropeType: 'default', theta: 1e4, slidingWindow: 512, qkNorm: 'per-head', scaleSource: 'query_pre_attn_scalar' },
  'gemma-2-9b-it': { ropeType: 'default', softCap: 50, slidingWindow: 4096, scale: 256 ** -0.5 },
  'gemma-2-2b': { ropeType: 'default', theta: 1e4, softCap: 50, slidingWindow: 4096, scale: 256 ** -0.5, scaleSource: 'query_pre_attn_scalar' },
  'Qwen3-0.6B': { ropeType: 'default', theta: 1e6, qkNorm: 'per-head', slidingWindow: undefined, scale: 128 ** -0.5 },
  'Phi-3-mini-4k-instruct': { ropeType: 'default', theta: 1e4, slidingWindow: 2047, scale: 96 ** -0.5 },
  'OLMo-2-0425-1B': { ropeType: 'default', theta: 5e5, qkNorm: 'whole-projection', scale: 128 ** -0.5 },
  'pythia-1b': { ropeType: 'default', theta: 1e4, rotaryDims: 64, scale: 256 ** -0.5 },
  'gpt2': { scaleSource: 'head_dim' },
  'bert-base-uncased': { causal: false },
  't5-small': { scaleSource: 'none', positionBias: 'relative' },
  'opus-mt-zh-en': { scaleSource: 'head_dim' },
};

/** One layer, capped vocabulary and MLP; the rest as published. */
function reduce(raw: Raw): Raw {
  const r: Raw = { ...raw };
  for (const f of ['num_hidden_layers', 'n_layer', 'num_layers', 'num_decoder_layers', 'encoder_layers', 'decoder_layers']) if (f in r) r[f] = 1;
  if (Array.isArray(r.layer_types)) r.layer_types = r.layer_types.slice(0, 1);
  for (const f of ['intermediate_size', 'd_ff', 'encoder_ffn_dim', 'decoder_ffn_dim', 'n_inner']) {
    if (typeof r[f] === 'number') r[f] = Math.min(r[f] as number, FFN_CAP);
  }
  const fed = r.is_encoder_decoder ? [r.decoder_start_token_id, r.pad_token_id].filter((x): x is number => typeof x === 'number') : [];
  r.vocab_size = Math.min(r.vocab_size as number, Math.max(VOCAB_CAP, ...fed.map((id) => id + 1)));
  return r;
}

describe('config zoo: real config.json files, one layer, random weights of the real shapes', function () {
  this.timeout(120000);
  const backend = new ReferenceBackend();
  const names = fs.readdirSync(ZOO).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-zoo-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every file of the zoo has an expectation, and every expectation a file', () => {
    assert.deepStrictEqual(names, Object.keys(EXPECTED).sort());
  });

  for (const name of names) {
    it(`${name}: parsed, run for ${TOKENS} tokens`, async () => {
      const folder = path.join(dir, name);
      fs.mkdirSync(folder);
      const raw = reduce(JSON.parse(fs.readFileSync(path.join(ZOO, `${name}.json`), 'utf8')) as Raw);
      fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(raw, null, 2));
      // The larger models are sharded on the Hub: so are they here.
      writeRandomCheckpoint(folder, hfTensorShapes(raw), SHARDED.includes(name) ? 3 : 1);
      const loaded = loadModel(folder);
      const ids = Array.from({ length: TOKENS }, (_, i) => 3 + i * 7);
      const events: ForwardEvent[] = [];
      const { kind } = loaded.model.info;
      // bert-base-uncased's config is a BertModel: no masked-LM head, so no logits.
      const logits = kind !== 'encoder-only';
      await inspect(loaded, backend, { ids, targetIds: kind === 'encoder-decoder' ? ids : undefined }, { logits }, { onEvent: (e) => void events.push(e) });
      fs.rmSync(folder, { recursive: true });
      const attention = events.filter((e): e is AttentionEvent => e.type === 'attention');
      assert.ok(attention.length >= 1, 'attention was produced');
      for (const a of attention) {
        for (let row = 0; row < a.numHeads * a.queryLength; row++) {
          const p = a.probs.subarray(row * a.keyLength, (row + 1) * a.keyLength);
          const sum = p.reduce((s, x) => s + x, 0);
          assert.ok(p.every(Number.isFinite) && Math.abs(sum - 1) < 1e-4, `${a.stack} ${a.layer} row ${row}: sums to ${sum}`);
        }
      }
      const out = events.find((e) => e.type === 'logits');
      if (logits) assert.ok(out && out.type === 'logits' && out.data.every(Number.isFinite), 'finite logits');
      const recipe = attention[0].recipe;
      const { ropeType, theta, rotaryDims, ...facts } = EXPECTED[name];
      for (const [key, value] of Object.entries(facts)) assert.deepStrictEqual(recipe[key as keyof AttentionRecipe], value, `${name}: recipe.${key}`);
      if (ropeType) assert.strictEqual(recipe.rope?.scaling, ropeType, `${name}: RoPE type`);
      if (theta) assert.strictEqual(recipe.rope?.theta, theta, `${name}: RoPE theta`);
      if (rotaryDims) assert.strictEqual(recipe.rope?.rotaryDims, rotaryDims, `${name}: rotary dims`);
    });
  }
});
