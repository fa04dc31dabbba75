/**
 * The bundles without their native packages, as the universal .vsix runs (no Dawn) and as a package on the
 * wrong platform would (no tokenizer build): the run goes on where it can and says why, in words a user can act on.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sharedPath } from '../helpers/shared';
import { REPO_ROOT } from '../helpers/repo';

const ROOT = REPO_ROOT;
const NO_DAWN = `WebGPU is not available: this installation has no WebGPU runtime (Dawn) for ${process.platform}-${process.arch}`;

describe('Without the native packages (the universal .vsix)', () => {
  let tmp: string;
  let cli: string;
  before(() => {
    // The CLI bundle, its engine and the panel's assets, in a folder where Node finds no node_modules at all.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-no-natives-'));
    for (const file of ['dist/cli.js', 'dist/engineWorker.js', 'dist/frameWriter.js', 'media/webview.js', 'media/panel.css', 'media/steps-and-diff.css', 'media/analysis.css']) {
      assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} is missing: run npm run build`);
      fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(tmp, file));
    }
    cli = path.join(tmp, 'dist', 'cli.js');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, ATTENTION_INSPECTOR_NO_WEBGPU: undefined } });

  it('auto runs the demo on the CPU and says that this installation has no Dawn', () => {
    const r = run('demo');
    assert.strictEqual(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`backend CPU (`), r.stdout);
    assert.ok(r.stdout.includes(NO_DAWN), r.stdout.split('\n')[1]);
  });

  it('--backend webgpu fails with that reason and the way out', () => {
    const r = run('inspect', '--model', 'demo', '--text', 'hello world', '--backend', 'webgpu');
    assert.strictEqual(r.status, 1);
    assert.ok(r.stderr.startsWith(`error: ${NO_DAWN}`), r.stderr);
    assert.match(r.stderr, /Run on the CPU with --backend cpu \(or auto\)\./);
  });

  it('a model with a tokenizer.json names the missing tokenizer build and what to install', () => {
    const r = run('inspect', '--model', sharedPath('models', 'llama-stories260K'), '--text', 'Once upon a time', '--backend', 'cpu');
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, new RegExp(`^error: The tokenizer library \\(npm "tokenizers"\\) has no native build for ${process.platform}-${process.arch} in this installation`));
    assert.match(r.stderr, /Install the Attention Inspector package built for this platform/);
  });
});
