/** The CLI as a user runs it: fixture-compatible output files, tokenize, and actionable errors. */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertClose } from '../helpers/compare';
import { readReference, sharedPath } from '../helpers/shared';
import { crashingTokenizer } from '../helpers/scratchModel';
import { CLI } from '../helpers/repo';


function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ATTENTION_INSPECTOR_NO_WEBGPU: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI', () => {
  let tmp: string;
  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('inspect reproduces the llama once_upon reference', () => {
    const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'once_upon.json'), 'utf8'));
    const out = path.join(tmp, 'once.safetensors');
    const json = path.join(tmp, 'once.json');
    const r = cli('inspect', '--model', sharedPath('models', 'llama-stories260K'), '--text', meta.text, '--backend', 'cpu', '--out', out, '--json', json, '--scores', '--hidden-states');
    assert.strictEqual(r.status, 0, r.stderr);
    const written = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.deepStrictEqual(written.input_ids, meta.input_ids);
    assert.deepStrictEqual(written.tokens, meta.tokens);
    assert.deepStrictEqual(written.offsets_utf16, meta.offsets_utf16);
    // The CPU choice runs the WebAssembly kernels where the engine has SIMD, else the JavaScript reference.
    assert.deepStrictEqual({ ...written.backend, adapter: undefined }, { used: 'cpu', adapter: undefined, fallbackReason: null });
    assert.match(written.backend.adapter, /^CPU \((WebAssembly SIMD|JavaScript)/);
    const ours = readReference(out);
    for (const [name, ref] of readReference(sharedPath('fixtures', 'llama-stories260K', 'once_upon.safetensors'))) {
      const mine = ours.get(name);
      assert.ok(mine, `${name} missing from the CLI output`);
      assert.deepStrictEqual(mine.shape, ref.shape);
      assertClose(mine.data, ref.data, { atol: meta.atol_hint }, name, (i) => ref.data[i] <= -1e9);
    }
  });

  for (const model of ['t5-tiny-random', 'bart-tiny-random']) {
    it(`inspect --target-text reproduces ${model} zh_en_rain (teacher forcing)`, () => {
      const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', model, 'zh_en_rain.json'), 'utf8'));
      const out = path.join(tmp, `${model}.safetensors`);
      const json = path.join(tmp, `${model}.json`);
      const r = cli('inspect', '--model', sharedPath('models', model), '--text', meta.source_text, '--target-text', meta.target_text, '--backend', 'cpu', '--hidden-states', '--out', out, '--json', json);
      assert.strictEqual(r.status, 0, r.stderr);
      const written = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.deepStrictEqual(written.labels, meta.labels);
      assert.deepStrictEqual(written.decoder_input_ids, meta.decoder_input_ids);
      assert.deepStrictEqual(written.target_offsets_utf16.slice(1), meta.target_offsets_utf16.slice(0, -1));
      const ours = readReference(out);
      for (const [name, ref] of readReference(sharedPath('fixtures', model, 'zh_en_rain.safetensors'))) {
        assert.ok(ours.has(name), `${name} missing`);
        assertClose(ours.get(name)!.data, ref.data, { atol: meta.atol_hint }, name);
      }
    });
  }

  it('inspect --generate writes each step and the generated text', () => {
    const json = path.join(tmp, 'gen.json');
    const r = cli('inspect', '--model', sharedPath('models', 'llama-stories260K'), '--text', 'Once upon a time', '--generate', '8', '--backend', 'cpu', '--json', json);
    assert.strictEqual(r.status, 0, r.stderr);
    const written = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.strictEqual(written.generated_ids.length, 8);
    assert.match(written.generated_text, /there was/);
    assert.deepStrictEqual(written.tensors['steps.0.attentions.0'], [8, 5, 5]);
    assert.deepStrictEqual(written.tensors['steps.7.attentions.4'], [8, 1, 12]);
  });

  it('inspect takes ids for a model without a tokenizer', () => {
    const r = cli('inspect', '--model', sharedPath('models', 'gpt2-sort'), '--ids', '2,0,1,1,0,2', '--backend', 'cpu');
    assert.strictEqual(r.status, 0, r.stderr);
    const meta = JSON.parse(r.stdout);
    assert.deepStrictEqual(meta.tensors['attentions.0'], [3, 6, 6]);
  });

  it('tokenize --jsonl writes one line per input line', () => {
    const input = path.join(tmp, 'in.jsonl');
    fs.writeFileSync(input, '{"text": "Hello world"}\n{"text": "café 😀"}\n');
    const r = cli('tokenize', '--model', sharedPath('models', 'gpt2-tiny-random'), '--jsonl', input);
    assert.strictEqual(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 2);
    assert.deepStrictEqual(lines[0], { input_ids: [15496, 995], tokens: ['Hello', 'Ġworld'], offsets_utf16: [[0, 5], [5, 11]] });
  });

  it('errors name the problem and exit non-zero', () => {
    const noConfig = cli('inspect', '--model', tmp, '--text', 'x');
    assert.strictEqual(noConfig.status, 1);
    assert.match(noConfig.stderr, /no config\.json/);
    const noInput = cli('inspect', '--model', 'demo');
    assert.strictEqual(noInput.status, 1);
    assert.match(noInput.stderr, /exactly one of --text/);
    const tooLong = cli('inspect', '--model', sharedPath('models', 'gpt2-sort'), '--ids', Array(12).fill(1).join(','));
    assert.strictEqual(tooLong.status, 1);
    assert.match(tooLong.stderr, /12 tokens, but this model supports at most 11/);
    const unknown = cli('frobnicate');
    assert.strictEqual(unknown.status, 2);
  });

  it('a tokenizer that aborts the engine is a clean error and exit 1, for inspect and tokenize', () => {
    const dir = crashingTokenizer();
    try {
      for (const command of ['inspect', 'tokenize']) {
        const r = cli(command, '--model', dir, '--text', 'Once upon a time');
        assert.strictEqual(r.status, 1, `${command}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^error: The model's tokenizer crashed while tokenizing the text with ${dir}/tokenizer\\.json \\(the tokenizers library aborted`));
        assert.doesNotMatch(r.stderr, /panicked at|RUST_BACKTRACE|internal error|\n\s+at /);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run over --memory-budget is refused with the numbers', () => {
    const r = cli('inspect', '--model', sharedPath('models', 'llama-stories260K'), '--text', 'Once upon a time, there was a little girl. '.repeat(400), '--backend', 'cpu', '--memory-budget', '256');
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: Inspecting \d+ tokens on llama-stories260K needs about [\d.]+ GB .* more than the memory budget of 256 MB\. Use a shorter text\. Allow more memory with --memory-budget MB \(this needs about \d+ MB\)\./);
  });

  it('demo runs offline and names what 他 attends to in every head', () => {
    const r = cli('demo', '--backend', 'cpu');
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /untrained/);
    for (let h = 0; h < 8; h++) assert.match(r.stdout, new RegExp(`layer 0 head ${h}: 他 → `));
    // Tokens that repeat carry their position (了 at 8 and 16); a token that occurs once does not.
    assert.match(r.stdout, /了@8→/);
    assert.match(r.stdout, / 他→/);
    assert.doesNotMatch(r.stdout, /他@/);
  });
});
