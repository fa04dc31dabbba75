/**
 * The CLI's Hub path as a user runs it: `download` prints the snapshot folder, then `tokenize` and
 * `inspect --model org/name` find it in the cache; a model not downloaded says how to get it.
 * HF_ENDPOINT and HF_HUB_CACHE point at a local server and a temp folder, never the user's cache.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HubTestServer } from '../helpers/hubServer';
import { sharedPath } from '../helpers/shared';
import { CLI } from '../helpers/repo';

const REPO = 'tiny/llama-stories260K';

/** Runs the CLI without blocking this process, which also serves the HTTP requests it makes. */
function cli(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ATTENTION_INSPECTOR_NO_WEBGPU: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('CLI with Hub models', () => {
  let server: HubTestServer;
  let env: Record<string, string>;
  let cacheDir: string;
  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    server = await HubTestServer.start({ [REPO]: sharedPath('models', 'llama-stories260K') });
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-hubcli-'));
    env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir, HF_HOME: path.join(cacheDir, 'home') };
  });
  after(async () => {
    await server?.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('inspect of a model not downloaded names the download command', async () => {
    const r = await cli(env, 'inspect', '--model', REPO, '--text', 'Once');
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /attention-inspector download tiny\/llama-stories260K/);
    assert.deepStrictEqual(server.requests, [], 'inspect never downloads');
  });

  it('download prints the snapshot folder; tokenize and inspect then resolve the id from the cache', async () => {
    const download = await cli(env, 'download', REPO);
    assert.strictEqual(download.status, 0, download.stderr);
    const snapshot = download.stdout.trim();
    assert.strictEqual(snapshot, path.join(cacheDir, 'models--tiny--llama-stories260K', 'snapshots', server.commitOf(REPO)));
    assert.match(download.stderr, /model\.safetensors .* 6\/6 files/);
    assert.match(download.stderr, /downloaded 1\.\d MB/);

    const tokenize = await cli(env, 'tokenize', '--model', REPO, '--text', 'Once upon a time');
    assert.strictEqual(tokenize.status, 0, tokenize.stderr);
    assert.deepStrictEqual(JSON.parse(tokenize.stdout).input_ids, [1, 403, 407, 261, 378]);
    const inspect = await cli({ ...env, HF_HUB_OFFLINE: '1' }, 'inspect', '--model', REPO, '--text', 'Once upon a time', '--backend', 'cpu');
    assert.strictEqual(inspect.status, 0, inspect.stderr);
    assert.strictEqual(JSON.parse(inspect.stdout).model.name, REPO);
  });

  it('download under HF_HUB_OFFLINE=1 of a model not cached fails without a request', async () => {
    server.requests.length = 0;
    const r = await cli({ ...env, HF_HUB_OFFLINE: '1' }, 'download', 'tiny/other');
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /HF_HUB_OFFLINE/);
    assert.deepStrictEqual(server.requests, []);
  });
});
