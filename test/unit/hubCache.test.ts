/**
 * resolveModelSource without a network: the demo, folders, and Hub ids looked up in a Hugging Face
 * cache laid out by hand the way huggingface_hub writes it (refs/, snapshots/ links into blobs/).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cliErrorText } from '../../src/cli/errorText';
import { EngineError, EngineErrorCode } from '../../src/engine/errors';
import { resolveModelSource } from '../../src/engine/hub';
import { linkIntoSnapshot, parseHubId } from '../../src/engine/hub/cache';
import { hubCacheDir, hubEndpoint, hubToken, isOfflineByEnv } from '../../src/engine/hub/settings';
import { loadModel } from '../../src/engine/loadModel';
import { sharedPath } from '../helpers/shared';

const MAIN_COMMIT = 'a'.repeat(40);
const V1_COMMIT = 'b'.repeat(40);
const REPO = 'org/qwen2-tiny';

/** models--org--qwen2-tiny with main -> MAIN_COMMIT and v1 -> V1_COMMIT, both complete. */
function buildCache(cacheDir: string): string {
  const repoDir = path.join(cacheDir, 'models--org--qwen2-tiny');
  const source = sharedPath('models', 'qwen2-tiny-random');
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true });
  for (const [ref, commit] of [['main', MAIN_COMMIT], ['v1', V1_COMMIT]]) {
    fs.mkdirSync(path.join(repoDir, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repoDir, 'refs', ref), commit);
    const snapshot = path.join(repoDir, 'snapshots', commit);
    fs.mkdirSync(snapshot, { recursive: true });
    for (const f of fs.readdirSync(source)) {
      const blobName = `${f}-blob`;
      fs.copyFileSync(path.join(source, f), path.join(repoDir, 'blobs', blobName));
      fs.symlinkSync(path.join('..', '..', 'blobs', blobName), path.join(snapshot, f));
    }
  }
  return repoDir;
}

/** The error's code, and fragments of the whole text the CLI prints for it (the fact and its remedies). */
function expectCode(code: EngineErrorCode, ...fragments: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected EngineError, got ${err}`);
    assert.strictEqual(err.code, code, err.message);
    const text = cliErrorText(err);
    for (const f of fragments) assert.ok(text.includes(f), `"${text}" should mention "${f}"`);
    return true;
  };
}

describe('model sources and the Hugging Face cache', () => {
  let cacheDir: string;
  let repoDir: string;
  before(() => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-hubcache-'));
    repoDir = buildCache(cacheDir);
  });
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('the demo and folders pass through', () => {
    assert.deepStrictEqual(resolveModelSource('demo-causal'), { kind: 'demo', path: 'demo-causal' });
    const folder = sharedPath('models', 'gpt2-sort');
    assert.deepStrictEqual(resolveModelSource(folder, { cacheDir }), { kind: 'folder', path: folder });
  });

  it('finds a snapshot through refs/main, a named revision, @revision and a commit', () => {
    const snapshot = (commit: string) => path.join(repoDir, 'snapshots', commit);
    assert.deepStrictEqual(resolveModelSource(REPO, { cacheDir }), { kind: 'hub', path: snapshot(MAIN_COMMIT), repoId: REPO, revision: 'main', commit: MAIN_COMMIT });
    assert.strictEqual(resolveModelSource(REPO, { cacheDir, revision: 'v1' }).path, snapshot(V1_COMMIT));
    assert.strictEqual(resolveModelSource(`${REPO}@v1`, { cacheDir }).path, snapshot(V1_COMMIT));
    assert.strictEqual(resolveModelSource(`${REPO}@${V1_COMMIT}`, { cacheDir }).path, snapshot(V1_COMMIT));
    assert.throws(() => resolveModelSource(`${REPO}@v1`, { cacheDir, revision: 'main' }), expectCode('BAD_INPUT', 'v1', 'main'));
  });

  it('reads the cache location from HF_HUB_CACHE, else HF_HOME/hub, as huggingface_hub does', () => {
    assert.strictEqual(resolveModelSource(REPO, { env: { HF_HUB_CACHE: cacheDir, HF_HOME: '/nowhere' } }).path, path.join(repoDir, 'snapshots', MAIN_COMMIT));
    assert.strictEqual(hubCacheDir({ HF_HOME: '/x/hf' }), path.join('/x/hf', 'hub'));
    assert.strictEqual(hubCacheDir({ XDG_CACHE_HOME: '/x/cache' }), path.join('/x/cache', 'huggingface', 'hub'));
    assert.strictEqual(hubCacheDir({}), path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    assert.strictEqual(hubEndpoint({}), 'https://huggingface.co');
    assert.strictEqual(hubEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
    assert.deepStrictEqual(['1', 'ON', 'yes', 'True', '0', 'false', ''].map((v) => isOfflineByEnv({ HF_HUB_OFFLINE: v })), [true, true, true, true, false, false, false]);
    assert.strictEqual(hubToken({ HF_TOKEN: 'hf_x', HF_HOME: '/nowhere' }), 'hf_x');
    assert.strictEqual(hubToken({ HF_HOME: '/nowhere' }), undefined);
  });

  it('a snapshot loads as a model named after its repository', async () => {
    const loaded = loadModel(resolveModelSource(REPO, { cacheDir }).path);
    assert.strictEqual(loaded.model.info.name, REPO);
    assert.ok((await loaded.tokenizer!.encode('hello')).ids.length > 0);
  });

  it('a model not in the cache gives the command that downloads it', () => {
    assert.throws(() => resolveModelSource('org/missing', { cacheDir }), expectCode('MODEL_NOT_CACHED', 'org/missing', cacheDir, 'attention-inspector download org/missing'));
    assert.throws(() => resolveModelSource(`${REPO}@v2`, { cacheDir }), expectCode('MODEL_NOT_CACHED', `${REPO}@v2`, `download ${REPO} --revision v2`));
  });

  it('a snapshot without its weights (e.g. only a config fetched by Python) is not taken as cached', () => {
    const partialCommit = 'c'.repeat(40);
    const partial = path.join(repoDir, 'snapshots', partialCommit);
    fs.mkdirSync(partial, { recursive: true });
    fs.symlinkSync(path.join('..', '..', 'blobs', 'config.json-blob'), path.join(partial, 'config.json'));
    fs.symlinkSync(path.join('..', '..', 'blobs', 'gone'), path.join(partial, 'model.safetensors'));
    assert.throws(() => resolveModelSource(`${REPO}@${partialCommit}`, { cacheDir }), expectCode('MODEL_NOT_CACHED', 'lacks model.safetensors'));
  });

  it('a path that does not exist is a folder error, not a Hub lookup', () => {
    for (const spec of ['./missing-model', '/no/such/model', '../a/b/c']) {
      assert.throws(() => resolveModelSource(spec, { cacheDir }), expectCode('BAD_MODEL_FOLDER', 'not a folder'));
    }
  });

  it('where links are not allowed (Windows without developer mode) the snapshot gets a copy', () => {
    const blob = path.join(repoDir, 'blobs', 'config.json-blob');
    const target = path.join(cacheDir, 'copy-test', 'config.json');
    // The module object itself: `import * as fs` is a read-only view of it, which the code under test reads through.
    const nodeFs: { symlinkSync: typeof fs.symlinkSync } = require('fs');
    const symlinkSync = nodeFs.symlinkSync;
    nodeFs.symlinkSync = () => {
      throw Object.assign(new Error('EPERM: operation not permitted, symlink'), { code: 'EPERM' });
    };
    try {
      linkIntoSnapshot(blob, target);
    } finally {
      nodeFs.symlinkSync = symlinkSync;
    }
    assert.ok(!fs.lstatSync(target).isSymbolicLink());
    assert.deepStrictEqual(fs.readFileSync(target), fs.readFileSync(blob));
  });

  it('parses Hub ids the way the Hub names repositories', () => {
    assert.deepStrictEqual(parseHubId('Qwen/Qwen2.5-0.5B@refs/pr/1'), { repoId: 'Qwen/Qwen2.5-0.5B', revision: 'refs/pr/1' });
    assert.deepStrictEqual(parseHubId('gpt2'), { repoId: 'gpt2', revision: undefined });
    for (const bad of ['a/b/c', 'a--b/c', 'org/name@../../x', 'org/.hidden', 'org/name@']) assert.strictEqual(parseHubId(bad), undefined, bad);
  });
});
