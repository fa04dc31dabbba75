/**
 * downloadModel when things go wrong: a connection cut mid-file, a cancelled download resumed later,
 * a server that ignores Range, corrupted bytes, offline mode, no server, no safetensors.
 */
import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError, EngineErrorCode } from '../../src/engine/errors';
import { downloadModel, resolveModelSource } from '../../src/engine/hub';
import { HubTestServer } from '../helpers/hubServer';
import { sharedPath } from '../helpers/shared';

const LLAMA = 'tiny/llama-stories260K';
const BIN_ONLY = 'tiny/bin-only';
const WEIGHTS = 'model.safetensors';
const NO_ENV = {};

function expectEngineError(code: EngineErrorCode, ...fragments: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected EngineError, got ${err}`);
    assert.strictEqual(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `message "${err.message}" should mention "${f}"`);
    return true;
  };
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('hub download faults', () => {
  let server: HubTestServer;
  let tmp: string;
  let cacheDir: string;
  let weightsSha: string;
  let weightsSize: number;
  const blobs = () => path.join(cacheDir, 'models--tiny--llama-stories260K', 'blobs');
  const download = (options: Parameters<typeof downloadModel>[1] = {}) => downloadModel(LLAMA, { endpoint: server.endpoint, cacheDir, env: NO_ENV, ...options });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-hubfault-'));
    const binOnly = path.join(tmp, 'bin-only');
    fs.mkdirSync(binOnly);
    fs.copyFileSync(sharedPath('models', 'llama-stories260K', 'config.json'), path.join(binOnly, 'config.json'));
    fs.writeFileSync(path.join(binOnly, 'pytorch_model.bin'), 'not really a checkpoint');
    server = await HubTestServer.start({ [LLAMA]: sharedPath('models', 'llama-stories260K'), [BIN_ONLY]: binOnly });
    weightsSha = server.sha256Of(LLAMA, WEIGHTS);
    weightsSize = fs.statSync(sharedPath('models', 'llama-stories260K', WEIGHTS)).size;
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

  it('a connection cut mid-file is resumed with Range and the file checks out', async () => {
    server.faults = { cut: { file: WEIGHTS, afterBytes: 300_000 } };
    const result = await download();
    const gets = server.requestsFor(WEIGHTS, 'cdn').filter((r) => r.method === 'GET');
    assert.strictEqual(gets.length, 2);
    assert.strictEqual(gets[0].range, undefined);
    // The server drops the socket once its 300,000 bytes reach the kernel; a loaded machine may deliver
    // fewer before the reset, so the retry resumes from whatever the client kept — never from zero.
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1].range ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 300_000, `expected a resume from the bytes kept, got Range ${gets[1].range}`);
    assert.strictEqual(sha256File(path.join(result.snapshotPath, WEIGHTS)), weightsSha);
    assert.deepStrictEqual(fs.readdirSync(blobs()).filter((b) => b.endsWith('.incomplete')), []);
  });

  it('a cancelled download keeps its partial file, and the next one resumes it', async () => {
    server.faults = { stall: { file: WEIGHTS, afterBytes: 200_000 } };
    const controller = new AbortController();
    await assert.rejects(
      download({ signal: controller.signal, onProgress: (p) => p.file === WEIGHTS && p.fileBytes > 0 && controller.abort() }),
      expectEngineError('CANCELLED', 'resumes'),
    );
    const partial = path.join(blobs(), `${weightsSha}.incomplete`);
    const kept = fs.statSync(partial).size;
    assert.ok(kept > 0 && kept < weightsSize, `partial file of ${kept} bytes`);
    assert.ok(!fs.existsSync(path.join(blobs(), weightsSha)), 'no blob before it is complete');
    assert.throws(() => resolveModelSource(LLAMA, { cacheDir }), expectEngineError('MODEL_NOT_CACHED'));

    server.faults = {};
    server.requests.length = 0;
    const result = await download();
    assert.deepStrictEqual(server.requestsFor(WEIGHTS, 'cdn').map((r) => r.range), [`bytes=${kept}-`]);
    assert.strictEqual(sha256File(path.join(result.snapshotPath, WEIGHTS)), weightsSha);
    assert.ok(!fs.existsSync(partial));
  });

  it('a signal aborted before the call makes no request', async () => {
    await assert.rejects(download({ signal: AbortSignal.abort() }), expectEngineError('CANCELLED'));
    assert.deepStrictEqual(server.requests, []);
  });

  it('a server that ignores Range and sends the whole file: the partial file is replaced, not appended to', async () => {
    fs.mkdirSync(blobs(), { recursive: true });
    fs.writeFileSync(path.join(blobs(), `${weightsSha}.incomplete`), Buffer.alloc(1000, 0x55));
    server.faults = { ignoreRange: true };
    const result = await download();
    assert.deepStrictEqual(server.requestsFor(WEIGHTS, 'cdn').map((r) => r.range), ['bytes=1000-']);
    assert.strictEqual(sha256File(path.join(result.snapshotPath, WEIGHTS)), weightsSha);
  });

  for (const [file, digest] of [[WEIGHTS, 'sha256'], ['config.json', 'git sha1']]) {
    it(`corrupted ${file} is rejected (${digest}) and leaves no blob behind`, async () => {
      server.faults = { corrupt: file };
      await assert.rejects(download(), expectEngineError('DOWNLOAD_FAILED', `${LLAMA}/${file}`, 'corrupted', digest, 'deleted'));
      const repoDir = path.join(cacheDir, 'models--tiny--llama-stories260K');
      const left = fs.readdirSync(blobs());
      assert.ok(!left.some((b) => b.endsWith('.incomplete')), `no partial file left: ${left}`);
      assert.ok(!fs.existsSync(path.join(repoDir, 'refs', 'main')), 'no ref to an incomplete snapshot');
      const snapshot = path.join(repoDir, 'snapshots', server.commitOf(LLAMA));
      assert.ok(!fs.existsSync(path.join(snapshot, file)), `no ${file} in the snapshot`);
      assert.throws(() => resolveModelSource(LLAMA, { cacheDir }), expectEngineError('MODEL_NOT_CACHED'));

      server.faults = {};
      const result = await download();
      assert.ok(fs.existsSync(path.join(result.snapshotPath, file)), 'a clean retry succeeds');
    });
  }

  it('offline mode and HF_HUB_OFFLINE make no request; a cached model is still returned', async () => {
    await assert.rejects(download({ offline: true }), expectEngineError('OFFLINE', 'offline mode', LLAMA, cacheDir));
    await assert.rejects(download({ env: { HF_HUB_OFFLINE: '1' } }), expectEngineError('OFFLINE', 'HF_HUB_OFFLINE'));
    assert.deepStrictEqual(server.requests, []);
    const online = await download();
    server.requests.length = 0;
    const offline = await download({ env: { HF_HUB_OFFLINE: 'true' } });
    assert.deepStrictEqual(server.requests, []);
    assert.deepStrictEqual(offline, { ...online, downloadedBytes: 0 });
  });

  it('an unreachable endpoint says so', async () => {
    const closed = await HubTestServer.start({});
    const endpoint = closed.endpoint;
    await closed.close();
    await assert.rejects(downloadModel(LLAMA, { endpoint, cacheDir, env: NO_ENV }), expectEngineError('DOWNLOAD_FAILED', 'Cannot reach', endpoint));
  });

  it('a repository without safetensors weights is refused before any download', async () => {
    await assert.rejects(
      downloadModel(BIN_ONLY, { endpoint: server.endpoint, cacheDir, env: NO_ENV }),
      expectEngineError('DOWNLOAD_FAILED', 'no safetensors', 'pytorch_model.bin'),
    );
    assert.deepStrictEqual(server.requests.map((r) => r.path), [`/api/models/${BIN_ONLY}/revision/main`]);
  });
});
