/**
 * `analyze` as a user runs it: its --json equals the scores computed here, naively, from the tensors
 * `inspect --out` writes for the same input; and its errors say what to do.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { attentionFlow } from '../../src/engine/analysis/attentionFlow';
import type { NamedTensor } from '../../src/engine/loader/safetensors';
import { readReference, sharedPath } from '../helpers/shared';
import { assertNumbersClose, naiveEncoderDecoderRollout, naiveMix, naiveRollout } from './analysisTestData';
import { CLI } from '../helpers/repo';

const TEXT = 'Once upon a time, there was a little girl named Lily. Lily loved to play with her ball, and the ball was red.';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ATTENTION_INSPECTOR_NO_WEBGPU: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** null (JSON's NaN) back to NaN, [layer][head] flattened. */
const flat = (table: (number | null)[][]) => table.flat().map((x) => x ?? NaN);

/** The formulas for one head, written out over a tensor [H, T_q, T_k]; position i = T_k − T_q + row. */
function naiveScores(t: NamedTensor, h: number, self: boolean, causal: boolean, ids?: number[]) {
  const [, Tq, Tk] = t.shape;
  const A = (i: number, j: number) => t.data[(h * Tq + i) * Tk + j];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const rows = Array.from({ length: Tq }, (_, i) => i);
  const pos = (i: number) => Tk - Tq + i;
  const keys = Array.from({ length: Tk }, (_, j) => j);
  const entropyOf = (i: number) => -keys.reduce((s, j) => s + (A(i, j) > 0 ? A(i, j) * Math.log(A(i, j)) : 0), 0);
  const share = keys.map((j) => mean(rows.map((i) => A(i, j))));
  const sink = share.indexOf(Math.max(...share));
  const repeated = rows.filter((i) => self && ids && ids.slice(0, pos(i)).includes(ids[pos(i)]));
  return {
    previous_token: self ? mean(rows.filter((i) => pos(i) >= 1).map((i) => A(i, pos(i) - 1))) : NaN,
    first_token: mean(rows.map((i) => A(i, 0))),
    sink_share: share[sink],
    sink_position: sink,
    entropy: mean(rows.map(entropyOf)),
    entropy_normalised: mean(rows.map((i) => (self && causal ? pos(i) + 1 : Tk)).flatMap((n, i) => (n >= 2 ? [entropyOf(i) / Math.log(n)] : []))),
    mean_distance: self ? mean(rows.map((i) => keys.reduce((s, j) => s + A(i, j) * Math.abs(pos(i) - j), 0))) : NaN,
    duplicate_token: mean(repeated.map((i) => keys.filter((j) => j < pos(i) && ids![j] === ids![pos(i)]).reduce((s, j) => s + A(i, j), 0))),
  };
}

/** Every head score of the stack stored as `prefix + attentions.{l}`, [layer][head] flattened per score. */
function naiveStack(tensors: Map<string, NamedTensor>, prefix: string, self: boolean, causal: boolean, ids?: number[]) {
  const layers = [...tensors.keys()].filter((name) => name.startsWith(`${prefix}attentions.`)).length;
  const scores: Record<string, number[]> = {};
  for (let l = 0; l < layers; l++) {
    const t = tensors.get(`${prefix}attentions.${l}`)!;
    for (let h = 0; h < t.shape[0]; h++) {
      for (const [name, value] of Object.entries(naiveScores(t, h, self, causal, ids))) (scores[name] ??= []).push(value);
    }
  }
  return scores;
}

/** A stack's layers as AttentionProbabilities, for the naive rollout. */
const layersOf = (tensors: Map<string, NamedTensor>, prefix: string) =>
  [...tensors.keys()].filter((name) => name.startsWith(`${prefix}attentions.`)).sort().map((name) => {
    const t = tensors.get(name)!;
    return { numHeads: t.shape[0], queryLength: t.shape[1], keyLength: t.shape[2], probs: t.data };
  });

function assertHeads(json: { heads: Record<string, Record<string, (number | null)[][]>> }, stack: string, expected: Record<string, number[]>) {
  for (const [name, values] of Object.entries(expected)) assertNumbersClose(flat(json.heads[stack][name]), values, `${stack} ${name}`, 1e-6, 0);
}

describe('analyze CLI', () => {
  let tmp: string;
  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-analyze-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('llama-stories260K: every score, the rollout, the flow and induction equal those computed from inspect --out', () => {
    const model = sharedPath('models', 'llama-stories260K');
    const [out, meta, json] = ['run.safetensors', 'run.json', 'analysis.json'].map((f) => path.join(tmp, f));
    assert.strictEqual(cli('inspect', '--model', model, '--text', TEXT, '--backend', 'cpu', '--out', out, '--json', meta).status, 0);
    const r = cli('analyze', '--model', model, '--text', TEXT, '--backend', 'cpu', '--json', json, '--induction-n', '20', '--seed', '3', '--top', '3');
    assert.strictEqual(r.status, 0, r.stderr);
    const analysis = JSON.parse(fs.readFileSync(json, 'utf8'));
    const ids: number[] = JSON.parse(fs.readFileSync(meta, 'utf8')).input_ids;
    assert.deepStrictEqual(analysis.input_ids, ids);
    const tensors = readReference(out);
    const expected = naiveStack(tensors, '', true, true, ids);
    assertHeads(analysis, 'self', expected);

    // The printed ranking starts with the best head by the numbers computed here.
    const best = expected.previous_token.indexOf(Math.max(...expected.previous_token.filter((x) => !Number.isNaN(x))));
    assert.match(r.stdout, new RegExp(`previous_token +L${Math.floor(best / 8)}H${best % 8} `));

    const mixes = layersOf(tensors, '').map((layer) => naiveMix(layer, true));
    assertNumbersClose(analysis.rollout.self.flat(), naiveRollout(mixes).data, 'rollout', 1e-6, 0);
    const target = ids.length - 1;
    const flows = attentionFlow(mixes, target);
    const total = flows.reduce((a, b) => a + b, 0);
    assert.deepStrictEqual([analysis.flow.stack, analysis.flow.target], ['self', target]);
    assertNumbersClose(analysis.flow.max_flow.self, flows, 'max-flow', 1e-6, 0);
    assertNumbersClose(analysis.flow.share.self, flows.map((f) => f / total), 'flow share', 1e-6, 0);

    // Induction: the stripe of the recipe's own input, run through inspect here.
    assert.deepStrictEqual([analysis.induction.n, analysis.induction.seed], [20, 3]);
    const inductionOut = path.join(tmp, 'induction.safetensors');
    assert.strictEqual(cli('inspect', '--model', model, '--ids', analysis.induction.input_ids.join(','), '--backend', 'cpu', '--out', inductionOut).status, 0);
    const stripe = layersOf(readReference(inductionOut), '').flatMap((layer) => Array.from({ length: layer.numHeads }, (_, h) => {
      let sum = 0;
      for (let i = 21; i < 41; i++) sum += layer.probs[(h * 41 + i) * 41 + i - 19];
      return sum / 20;
    }));
    assertNumbersClose(flat(analysis.heads.self.induction), stripe, 'induction', 1e-6, 0);
  });

  it('llama-stories260K: the value-weighted scores and rollout follow from inspect --out and the value norms; the lens ends in transformers\' prediction', () => {
    const model = sharedPath('models', 'llama-stories260K');
    const fixture = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'once_upon.json'), 'utf8'));
    const [out, json] = ['once.safetensors', 'once-analysis.json'].map((f) => path.join(tmp, f));
    assert.strictEqual(cli('inspect', '--model', model, '--text', fixture.text, '--backend', 'cpu', '--out', out).status, 0);
    const r = cli('analyze', '--model', model, '--text', fixture.text, '--backend', 'cpu', '--json', json);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /value-weighted .*\n.*\n {2}previous_token +L\dH\d/);
    const analysis = JSON.parse(fs.readFileSync(json, 'utf8'));
    const norms: number[][][] = analysis.value_weighted.value_norms.self;
    // A[h, i, j] · n[h, j], each row renormalised, from the tensors inspect wrote.
    const weighted = new Map([...readReference(out)].filter(([name]) => name.startsWith('attentions.')).map(([name, t]) => {
      const l = Number(name.split('.')[1]);
      const [H, Tq, Tk] = t.shape;
      const data = new Float32Array(t.data.length);
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < Tq; i++) {
          const row = (h * Tq + i) * Tk;
          const sum = norms[l][h].reduce((s, n, j) => s + t.data[row + j] * n, 0);
          for (let j = 0; j < Tk; j++) data[row + j] = (t.data[row + j] * norms[l][h][j]) / sum;
        }
      }
      return [name, { ...t, data }];
    }));
    const expected = naiveStack(weighted, '', true, true, analysis.input_ids);
    for (const [name, values] of Object.entries(expected)) assertNumbersClose(flat(analysis.value_weighted.heads.self[name]), values, `value-weighted ${name}`, 1e-5, 0);
    assertNumbersClose(analysis.value_weighted.rollout.self.flat(), naiveRollout(layersOf(weighted, '').map((layer) => naiveMix(layer, true))).data, 'value-weighted rollout', 1e-5, 0);

    // The lens of the last hidden state: the model's own next-token choice at every position, most likely first.
    const lens = analysis.logit_lens;
    assert.deepStrictEqual([lens.stack, lens.top, lens.hidden_states.length, lens.ids[0].length], ['self', 5, 6, fixture.input_ids.length]);
    assert.deepStrictEqual(lens.ids[5].map((ranks: number[]) => ranks[0]), fixture.argmax_logits);
    for (const ranks of lens.probs.flat()) assert.ok(ranks.every((p: number, k: number) => k === 0 || p <= ranks[k - 1]) && ranks.reduce((a: number, b: number) => a + b, 0) <= 1 + 1e-6);
  });

  for (const name of ['t5-tiny-random', 'bart-tiny-random']) {
    it(`${name}: encoder, decoder and cross-attention scores and rollouts equal those computed from inspect --out`, () => {
      const model = sharedPath('models', name);
      const target = 'The girl and the ball: the ball was red.';
      const [out, meta, json] = [`${name}.safetensors`, `${name}.json`, `${name}-analysis.json`].map((f) => path.join(tmp, f));
      assert.strictEqual(cli('inspect', '--model', model, '--text', TEXT, '--target-text', target, '--backend', 'cpu', '--out', out, '--json', meta).status, 0);
      const r = cli('analyze', '--model', model, '--text', TEXT, '--target-text', target, '--backend', 'cpu', '--json', json, '--flow-target', '3');
      assert.strictEqual(r.status, 0, r.stderr);
      const analysis = JSON.parse(fs.readFileSync(json, 'utf8'));
      const run = JSON.parse(fs.readFileSync(meta, 'utf8'));
      const tensors = readReference(out);
      assertHeads(analysis, 'encoder', naiveStack(tensors, 'encoder_', true, false, run.input_ids));
      assertHeads(analysis, 'decoder', naiveStack(tensors, 'decoder_', true, true, run.decoder_input_ids));
      assertHeads(analysis, 'cross', naiveStack(tensors, 'cross_', false, false));
      assert.match(analysis.heads.cross.not_defined.previous_token, /different sequences/);
      const rollout = naiveEncoderDecoderRollout(
        layersOf(tensors, 'encoder_').map((l) => naiveMix(l, true)), layersOf(tensors, 'decoder_').map((l) => naiveMix(l, true)), layersOf(tensors, 'cross_').map((l) => naiveMix(l, false)),
      );
      for (const stack of ['encoder', 'decoder', 'cross'] as const) assertNumbersClose(analysis.rollout[stack].flat(), rollout[stack].data, `${stack} rollout`, 1e-6, 0);
      assert.deepStrictEqual([analysis.flow.stack, analysis.flow.target], ['decoder', 3]);
      assert.deepStrictEqual(Object.keys(analysis.heads.decoder).includes('induction'), true);
      assert.ok(!('induction' in analysis.heads.cross));
    });
  }

  it('a model too small for the default recipe skips induction and says why; an N asked for must fit', () => {
    const model = sharedPath('models', 'gpt2-sort');
    const json = path.join(tmp, 'sort.json');
    const r = cli('analyze', '--model', model, '--ids', '2,0,1,1,0,2', '--backend', 'cpu', '--json', json);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /induction skipped: .*at most 11; use N ≤ 5/);
    assert.match(JSON.parse(fs.readFileSync(json, 'utf8')).induction.skipped, /at most 11/);
    const asked = cli('analyze', '--model', model, '--ids', '2,0,1,1,0,2', '--backend', 'cpu', '--induction-n', '6');
    assert.strictEqual(asked.status, 1);
    assert.match(asked.stderr, /^error: .*use N ≤ 5/);
  });

  it('errors go to stderr with a non-zero exit and say what to do', () => {
    const model = sharedPath('models', 'llama-stories260K');
    const cases: [string[], RegExp][] = [
      [['analyze', '--text', 'hi'], /needs --model/],
      [['analyze', '--model', model], /exactly one of --text, --text-file or --ids/],
      [['analyze', '--model', model, '--text', 'hi', '--ids', '1,2'], /exactly one of/],
      [['analyze', '--model', model, '--text', 'Once upon', '--backend', 'cpu', '--flow-target', '40'], /--flow-target 40 is past the last self position, 2/],
      [['analyze', '--model', model, '--text', 'hi', '--flow-target', '-1'], /--flow-target must be a token position/],
      [['analyze', '--model', model, '--text', 'hi', '--top', '0'], /--top must be a positive whole number/],
      [['analyze', '--model', model, '--text', 'hi', '--generate', '3'], /Unknown option --generate/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      assert.notStrictEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
});
