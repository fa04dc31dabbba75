/**
 * ForwardWants.logitLens on every backend. The last hidden state's lens is the model's own prediction:
 * its top tokens and probabilities must be those of transformers' logits in the fixtures, for each
 * kind of head (tied and untied unembedding, Gemma 2's final soft-cap, T5's scaled tied decoder,
 * BART's final_logits_bias, BERT's masked-LM head). An earlier layer's lens is checked against the
 * head computed here in float64 from the fixture's hidden state and the model file.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../../src/engine/backend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { LensEvent } from '../../src/engine/model';
import { topTokens } from '../../src/engine/models/lens';
import { testBackends } from '../helpers/backends';
import { readReference, sharedPath } from '../helpers/shared';

const TOP = 5;

const CASES: readonly { model: string; case: string; stack: LensEvent['stack'] }[] = [
  { model: 'llama-stories260K', case: 'once_upon', stack: 'main' },
  { model: 'gemma2-tiny-random', case: 'rand_40', stack: 'main' },
  { model: 'gpt2-sort', case: 'sort_201102', stack: 'main' },
  { model: 'qwen3-tiny-random', case: 'rand_40', stack: 'main' },
  { model: 't5-tiny-random', case: 'zh_en_rain', stack: 'decoder' },
  { model: 'bart-tiny-random', case: 'en_en_animal', stack: 'decoder' },
  { model: 'bert-tiny-random', case: 'en_animal', stack: 'main' },
];

/** softmax of one row, in float64. */
function softmax(row: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(row));
  const e = Float64Array.from(row, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/**
 * Each row's lens against logits computed elsewhere: the same top tokens in the same order (a swap only
 * between tokens whose probabilities are within `atol`), with their probabilities.
 */
function assertLensMatches(lens: LensEvent, logits: ArrayLike<number>, vocab: number, atol: number, what: string): void {
  for (let r = 0; r < lens.rows; r++) {
    const p = softmax(Array.from({ length: vocab }, (_, v) => logits[r * vocab + v]));
    const ids = new Int32Array(TOP), probs = new Float32Array(TOP);
    topTokens(Float32Array.from(p), TOP, ids, probs);
    for (let i = 0; i < TOP; i++) {
      const ours = lens.ids[r * TOP + i];
      const where = `${what}, position ${r}, rank ${i}`;
      if (i >= vocab) {
        assert.ok(ours === -1 && lens.probs[r * TOP + i] === 0, `${where}: past the vocabulary of ${vocab}`);
        continue;
      }
      assert.ok(ours === ids[i] || Math.abs(p[ours] - p[ids[i]]) <= atol, `${where}: token ${ours}, expected ${ids[i]} (p ${p[ours]} vs ${p[ids[i]]})`);
      assert.ok(Math.abs(lens.probs[r * TOP + i] - p[ours]) <= atol, `${where}: p ${lens.probs[r * TOP + i]}, expected ${p[ours]}`);
    }
  }
}

/** Gemma 2's and Llama's head on a raw hidden state, in float64: softCap?(rms(h) · w' · Eᵀ). */
function decoderHead(hidden: Float32Array, rows: number, norm: Float32Array, embed: Float32Array, eps: number, normScale: (w: number) => number, softCap?: number): Float64Array {
  const dim = norm.length, vocab = embed.length / dim;
  const out = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    for (let k = 0; k < dim; k++) squares += hidden[r * dim + k] ** 2;
    const inv = 1 / Math.sqrt(squares / dim + eps);
    const x = Array.from({ length: dim }, (_, k) => hidden[r * dim + k] * inv * normScale(norm[k]));
    for (let v = 0; v < vocab; v++) {
      let logit = 0;
      for (let k = 0; k < dim; k++) logit += x[k] * embed[v * dim + k];
      out[r * vocab + v] = softCap === undefined ? logit : softCap * Math.tanh(logit / softCap);
    }
  }
  return out;
}

for (const backendEntry of testBackends()) {
  describe(`logit lens on ${backendEntry.name}`, function () {
    this.timeout(120000);
    let backend: Backend;
    before(async () => {
      backend = await backendEntry.create();
    });
    after(() => backend?.dispose());

    async function lensOf(model: string, meta: { input_ids: number[]; labels?: number[] }): Promise<LensEvent[]> {
      const lenses: LensEvent[] = [];
      await inspect(loadModel(sharedPath('models', model)), backend, { ids: meta.input_ids, targetIds: meta.labels }, { logitLens: { top: TOP } }, {
        onEvent: (e) => void (e.type === 'lens' && lenses.push(e)),
      });
      return lenses;
    }

    for (const c of CASES) {
      it(`${c.model} / ${c.case}: the last layer's lens is the model's own logits`, async () => {
        const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', c.model, `${c.case}.json`), 'utf8'));
        const logits = readReference(sharedPath('fixtures', c.model, `${c.case}.safetensors`)).get('logits')!;
        const lenses = await lensOf(c.model, meta);
        const layers = JSON.parse(fs.readFileSync(sharedPath('models', c.model, 'config.json'), 'utf8'));
        const count = layers.num_hidden_layers ?? layers.n_layer ?? layers.num_decoder_layers ?? layers.decoder_layers ?? layers.num_layers;
        assert.deepStrictEqual(lenses.map((l) => [l.stack, l.index]), Array.from({ length: count + 1 }, (_, i) => [c.stack, i]), 'the embeddings and every layer, in order');
        const last = lenses[count];
        assert.strictEqual(last.rows, logits.shape[0]);
        // Probabilities move by about p · Δlogit: the logits' own tolerance bounds them.
        assertLensMatches(last, logits.data, logits.shape[1], meta.atol_hint_by_tensor.logits, 'last layer');
      });
    }

    for (const [model, testCase, normScale, softCap] of [['llama-stories260K', 'story_200', (w: number) => w, undefined], ['gemma2-tiny-random', 'rand_40', (w: number) => 1 + w, 30]] as const) {
      it(`${model} / ${testCase}: every earlier layer's lens is the head on that layer's output`, async () => {
        const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', model, `${testCase}.json`), 'utf8'));
        const fixture = readReference(sharedPath('fixtures', model, `${testCase}.safetensors`));
        const weights = readReference(path.join(sharedPath('models', model), 'model.safetensors'));
        const config = JSON.parse(fs.readFileSync(sharedPath('models', model, 'config.json'), 'utf8'));
        const lenses = await lensOf(model, meta);
        const embed = weights.get('model.embed_tokens.weight')!;
        for (const lens of lenses.slice(1, -1)) {
          const hidden = fixture.get(`hidden_states.${lens.index}`)!;
          const expected = decoderHead(hidden.data, lens.rows, weights.get('model.norm.weight')!.data, embed.data, config.rms_norm_eps, normScale, softCap);
          assertLensMatches(lens, expected, embed.shape[0], 10 * meta.atol_hint_by_tensor.hidden_states, `layer ${lens.index - 1}`);
        }
      });
    }

    it('refuses the demo model, which has no language-model head', async () => {
      await assert.rejects(inspect(loadModel('demo-causal'), backend, { text: 'the cat sat' }, { logitLens: { top: TOP } }, { onEvent: () => undefined }), /no logit lens/);
    });
  });
}

describe('topTokens', () => {
  it('picks the largest logits in order (the lower id on a tie) with their softmax probabilities', () => {
    const logits = Float32Array.from([1, 3, 3, 0, 2]);
    const ids = new Int32Array(4), probs = new Float32Array(4);
    topTokens(logits, 4, ids, probs);
    assert.deepStrictEqual(Array.from(ids), [1, 2, 4, 0]);
    const z = [1, 3, 3, 0, 2].reduce((s, x) => s + Math.exp(x), 0);
    Array.from(probs).forEach((p, i) => assert.ok(Math.abs(p - Math.exp(logits[ids[i]]) / z) < 1e-7));
  });

  it('marks ranks past a short vocabulary with −1', () => {
    const ids = new Int32Array(3), probs = new Float32Array(3);
    topTokens(Float32Array.from([0.5, -1]), 3, ids, probs);
    assert.deepStrictEqual([Array.from(ids), probs[2]], [[0, 1, -1], 0]);
  });
});
