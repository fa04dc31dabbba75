/**
 * downloadModel against a Hub stand-in on 127.0.0.1: the files chosen, the cache layout Python's
 * huggingface_hub reads, progress, the token, a sharded repository, and that the downloaded snapshot
 * loads and reproduces transformers' attentions.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { EngineError } from '../../src/engine/errors';
import { downloadModel, DownloadProgress, resolveModelSource } from '../../src/engine/hub';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { readSafetensorsIndex, readTensor, writeSafetensors } from '../../src/engine/loader/safetensors';
import { toFloat32 } from '../../src/engine/tensor';
import { assertClose } from '../helpers/compare';
import { HubTestServer } from '../helpers/hubServer';
import { readReference, sharedPath } from '../helpers/shared';

const LLAMA = 'tiny/llama-stories260K';
const SHARDED = 'tiny/llama-sharded';
const NO_ENV = {}; // never the user's HF_TOKEN, HF_HUB_OFFLINE or ~/.cache

/** A copy of a single-file model with its tensors split over two shards and an index, as save_pretrained writes. */
function shardedCopy(source: string, dest: string): void {
  for (const f of fs.readdirSync(source)) if (f !== 'model.safetensors') fs.copyFileSync(path.join(source, f), path.join(dest, f));
  const index = readSafetensorsIndex(path.join(source, 'model.safetensors'));
  const entries = [...index.entries.values()];
  const shardOf = (i: number) => `model-0000${i < entries.length / 2 ? 1 : 2}-of-00002.safetensors`;
  const weightMap: Record<string, string> = {};
  for (const shard of [shardOf(0), shardOf(entries.length - 1)]) {
    const tensors = entries.filter((_, i) => shardOf(i) === shard).map((e) => ({ name: e.name, shape: e.shape, data: toFloat32(readTensor(index, e)) }));
    writeSafetensors(path.join(dest, shard), tensors, { format: 'pt' });
    for (const t of tensors) weightMap[t.name] = shard;
  }
  fs.writeFileSync(path.join(dest, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
}

/** The once_upon fixture's attentions from a loaded folder, within the fixture's tolerance. */
async function assertMatchesFixture(folder: string): Promise<void> {
  const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'llama-stories260K', 'once_upon.json'), 'utf8'));
  const reference = readReference(sharedPath('fixtures', 'llama-stories260K', 'once_upon.safetensors'));
  const backend = new ReferenceBackend();
  const attentions = new Map<number, Float32Array>();
  try {
    await inspect(loadModel(folder), backend, { text: meta.text }, {}, {
      onEvent: (e) => void (e.type === 'attention' && attentions.set(e.layer, e.probs)),
    });
  } finally {
    backend.dispose();
  }
  assert.strictEqual(attentions.size, 5);
  for (const [layer, probs] of attentions) assertClose(probs, reference.get(`attentions.${layer}`)!.data, { atol: meta.atol_hint_by_tensor.attentions }, `attentions.${layer}`);
}

describe('hub download', () => {
  let server: HubTestServer;
  let tmp: string;
  let cacheDir: string;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-hub-'));
    const sharded = path.join(tmp, 'sharded-repo');
    fs.mkdirSync(sharded);
    shardedCopy(sharedPath('models', 'llama-stories260K'), sharded);
    server = await HubTestServer.start({ [LLAMA]: sharedPath('models', 'llama-stories260K'), [SHARDED]: sharded });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.faults = {};
    server.requests.length = 0;
    cacheDir = fs.mkdtempSync(path.join(tmp, 'cache-'));
  });

  it('downloads config, tokenizer and weights into the huggingface_hub cache layout', async () => {
    const progress: DownloadProgress[] = [];
    const result = await downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: NO_ENV, onProgress: (p) => progress.push(p) });
    const commit = server.commitOf(LLAMA);
    const repoDir = path.join(cacheDir, 'models--tiny--llama-stories260K');
    assert.strictEqual(result.commit, commit);
    assert.strictEqual(result.snapshotPath, path.join(repoDir, 'snapshots', commit));
    assert.strictEqual(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8'), commit, 'refs/main holds the commit, no newline');
    const files = fs.readdirSync(result.snapshotPath).sort();
    assert.deepStrictEqual(files, ['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    const weightsLink = path.join(result.snapshotPath, 'model.safetensors');
    assert.strictEqual(fs.readlinkSync(weightsLink), path.join('..', '..', 'blobs', server.sha256Of(LLAMA, 'model.safetensors')));
    for (const f of files) assert.ok(fs.lstatSync(path.join(result.snapshotPath, f)).isSymbolicLink(), `${f} is a link into blobs/`);
    const blobs = fs.readdirSync(path.join(repoDir, 'blobs'));
    assert.strictEqual(blobs.length, files.length);
    assert.ok(blobs.every((b) => /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(b)), `blobs are named by etag: ${blobs}`);
    assert.deepStrictEqual(server.requestsFor('LICENSE'), [], 'files the engine does not read are not fetched');
    assert.deepStrictEqual(server.requestsFor('tokenizer.model'), []);

    const totalBytes = files.reduce((sum, f) => sum + fs.statSync(path.join(result.snapshotPath, f)).size, 0);
    assert.strictEqual(result.downloadedBytes, totalBytes);
    const last = progress[progress.length - 1];
    assert.deepStrictEqual([last.bytesDone, last.bytesTotal, last.filesDone, last.filesTotal], [totalBytes, totalBytes, 6, 6]);
    assert.ok(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1].bytesDone), 'overall progress never goes back');
    assert.ok(progress.some((p) => p.file === 'model.safetensors' && p.fileBytes > 0 && p.fileBytes < p.fileTotal), 'per-file progress while the weights stream');

    const cdnGets = server.requests.filter((r) => r.server === 'cdn');
    assert.deepStrictEqual(cdnGets.map((r) => r.method), ['GET'], 'the weights came through the 302 to the CDN');

    const loaded = loadModel(result.snapshotPath);
    assert.strictEqual(loaded.model.info.name, LLAMA, 'a snapshot is named by its repository, not its commit');
    assert.deepStrictEqual((await loaded.tokenizer!.encode('Once upon a time')).ids, [1, 403, 407, 261, 378]);
    await assertMatchesFixture(result.snapshotPath);
  });

  it('a second download of the same revision fetches no file again', async () => {
    await downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: NO_ENV });
    server.requests.length = 0;
    const again = await downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: NO_ENV });
    assert.strictEqual(again.downloadedBytes, 0);
    assert.deepStrictEqual(server.requests.filter((r) => r.method === 'GET' && !r.path.startsWith('/api/')), []);
    server.requests.length = 0;
    const byCommit = await downloadModel(`${LLAMA}@${again.commit}`, { endpoint: server.endpoint, cacheDir, env: NO_ENV });
    assert.strictEqual(byCommit.snapshotPath, again.snapshotPath);
    assert.deepStrictEqual(server.requests, [], 'a cached commit never changes: no request at all');
  });

  it('a sharded repository: the index and every shard it lists, then it loads', async () => {
    const result = await downloadModel(SHARDED, { endpoint: server.endpoint, cacheDir, env: NO_ENV });
    const files = fs.readdirSync(result.snapshotPath).sort();
    assert.ok(files.includes('model.safetensors.index.json'));
    assert.deepStrictEqual(files.filter((f) => f.endsWith('.safetensors')), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    for (const shard of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) {
      assert.strictEqual(server.requestsFor(shard, 'cdn').length, 1, `${shard} fetched once`);
    }
    assert.strictEqual(resolveModelSource(SHARDED, { cacheDir }).path, result.snapshotPath);
    await assertMatchesFixture(result.snapshotPath);
  });

  it('sends HF_TOKEN to the Hub but not to the CDN it redirects to', async () => {
    server.faults = { token: 'hf_test_token' };
    await assert.rejects(downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: NO_ENV }), (err: unknown) => {
      assert.ok(err instanceof EngineError && err.code === 'DOWNLOAD_FAILED', String(err));
      assert.match(err.message, /HTTP 401.*HF_TOKEN/);
      return true;
    });
    const result = await downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: { HF_TOKEN: 'hf_test_token' } });
    assert.ok(fs.existsSync(path.join(result.snapshotPath, 'model.safetensors')));
    const cdn = server.requests.filter((r) => r.server === 'cdn');
    assert.ok(cdn.length > 0 && cdn.every((r) => r.authorization === undefined), 'no token to another origin');
  });

  it('an unknown repository or revision says what was not found', async () => {
    for (const [spec, fragment] of [['tiny/nope', 'tiny/nope'], [`${LLAMA}@v9`, 'revision v9']]) {
      await assert.rejects(downloadModel(spec, { endpoint: server.endpoint, cacheDir, env: NO_ENV }), (err: unknown) => {
        assert.ok(err instanceof EngineError && err.code === 'DOWNLOAD_FAILED', String(err));
        assert.ok(err.message.includes(fragment) && err.message.includes('not found'), err.message);
        return true;
      });
    }
  });
});
