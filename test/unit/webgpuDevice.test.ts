/**
 * The WebGPU backend as the engine uses it: failures become GPU_FAILURE, backend selection and its
 * reasons, dispatches per layer and pipeline reuse, Node exiting after dispose, the engine worker
 * thread and the CLI.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { selectBackend } from '../../src/engine/backends';
import { isEngineError } from '../../src/engine/errors';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import { cliErrorText } from '../../src/cli/errorText';
import { NO_WEBGPU_ENV } from '../../src/engine/webgpu/gpuDevice';
import { WebGpuBackend } from '../../src/engine/webgpu/webgpuBackend';
import { EngineClient } from '../../src/engine/worker/engineClient';
import { webgpuOrSkip } from '../helpers/backends';
import { assertClose } from '../helpers/compare';
import { readReference, sharedPath } from '../helpers/shared';
import { REPO_ROOT } from '../helpers/repo';

const ROOT = REPO_ROOT;

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isEngineError(err) && err.code === code && message.test(err.message));
}

describe('WebGPU device failures', function () {
  it('a lost device fails the next read and every later call with GPU_FAILURE', async function () {
    const gpu = await webgpuOrSkip(this);
    try {
      const x = gpu.fromFloat32(new Float32Array([1, 2, 3, 4]), [2, 2]);
      await gpu.read([x]);
      gpu.runtime.device.destroy();
      await rejectsWith(gpu.read([gpu.scale(x, 2)]), 'GPU_FAILURE', /device was lost/);
      assert.throws(() => gpu.add(x, x), (err: unknown) => isEngineError(err) && err.code === 'GPU_FAILURE');
    } finally {
      gpu.dispose();
    }
  });

  it('an uncaptured WebGPU error fails the backend with its message', async function () {
    const gpu = await webgpuOrSkip(this);
    try {
      const x = gpu.fromFloat32(new Float32Array([1, 2]), [1, 2]);
      gpu.runtime.device.createBuffer({ size: 4, usage: 0x1 | 0x80 }); // MAP_READ | STORAGE is invalid
      await rejectsWith(gpu.read([x]), 'GPU_FAILURE', /reported an error: Buffer usages/);
    } finally {
      gpu.dispose();
    }
  });
});

describe('backend selection', function () {
  const saved = process.env[NO_WEBGPU_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[NO_WEBGPU_ENV];
    else process.env[NO_WEBGPU_ENV] = saved;
  });

  it(`${NO_WEBGPU_ENV}=1: auto runs on the CPU and says why, webgpu is a clear error`, async () => {
    process.env[NO_WEBGPU_ENV] = '1';
    const auto = await selectBackend('auto');
    auto.backend.dispose();
    assert.strictEqual(auto.used, 'cpu');
    assert.match(auto.fallbackReason ?? '', new RegExp(`${NO_WEBGPU_ENV}=1`));
    await assert.rejects(selectBackend('webgpu'), (err: unknown) => isEngineError(err) && err.code === 'NO_GPU' && /turned off by/.test(err.message)
      && err.remedies.includes('use-cpu') && /--backend cpu/.test(cliErrorText(err)));
  });

  it('cpu is the CPU with no reason; webgpu is WebGPU', async function () {
    await webgpuOrSkip(this).then((b) => b.dispose());
    const cpu = await selectBackend('cpu');
    cpu.backend.dispose();
    assert.deepStrictEqual([cpu.used, cpu.fallbackReason], ['cpu', null]);
    const gpu = await selectBackend('webgpu');
    gpu.backend.dispose();
    assert.deepStrictEqual([gpu.used, gpu.fallbackReason, gpu.backend.description.kind], ['webgpu', null, 'webgpu']);
  });

  it('auto on a software adapter races WebGPU against the CPU and reports the verdict', async function () {
    const probe = await webgpuOrSkip(this);
    const software = probe.software;
    probe.dispose();
    const auto = await selectBackend('auto');
    auto.backend.dispose();
    if (!software) {
      assert.strictEqual(auto.used, 'webgpu');
      return;
    }
    const verdict = auto.used === 'webgpu' ? auto.adapter : auto.fallbackReason;
    assert.match(verdict ?? '', /software adapter.*self-benchmark.*ms on WebGPU vs .*ms on the CPU/);
  });
});

describe('WebGPU in the engine', function () {
  it('runs a layer in at most 10 dispatches and compiles each pipeline once', async function () {
    const gpu = await webgpuOrSkip(this);
    try {
      for (const model of ['llama-stories260K', 'gpt2-sort', 'bert-tiny-random']) {
        const loaded = loadModel(sharedPath('models', model));
        const ids = model === 'gpt2-sort' ? [0, 1, 2, 0, 2, 1] : undefined;
        const perLayer: number[] = [];
        const run = async () => {
          let last = gpu.runtime.dispatchCount;
          await inspect(loaded, gpu, { text: ids ? undefined : 'Once upon a time, there was a girl.', ids }, { scores: true, hiddenStates: true }, {
            onEvent: (e) => {
              if (e.type !== 'attention') return;
              perLayer.push(gpu.runtime.dispatchCount - last);
              last = gpu.runtime.dispatchCount;
            },
          });
        };
        await run();
        const pipelines = gpu.runtime.pipelineCount;
        await run();
        assert.strictEqual(gpu.runtime.pipelineCount, pipelines, `${model}: a second run compiled new pipelines`);
        // Layer 0 also carries the embeddings; every later layer is the block alone.
        const layers = perLayer.slice(1).filter((_, i) => (i + 1) % loaded.model.info.numLayers !== 0);
        assert.ok(layers.every((n) => n <= 10), `${model}: dispatches per layer ${perLayer.join(', ')}`);
      }
    } finally {
      gpu.dispose();
    }
  });

  it('lets Node exit after dispose', async function () {
    await webgpuOrSkip(this).then((b) => b.dispose());
    const script = `const { WebGpuBackend } = require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'engine', 'webgpu', 'webgpuBackend.js'))});
      WebGpuBackend.create().then(async (b) => { const x = b.fromFloat32(new Float32Array(8), [2, 4]); await b.read([b.scale(x, 2)]); b.dispose(); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.strictEqual(r.status, 0, `the process did not exit by itself (signal ${r.signal}): ${r.stderr}`);
  });

  it('runs inside the engine worker thread', async function () {
    await webgpuOrSkip(this).then((b) => b.dispose());
    const client = new EngineClient(path.join(ROOT, 'dist', 'engineWorker.js'));
    try {
      const request = { model: sharedPath('models', 'llama-stories260K'), input: { text: 'Once upon a time' }, wants: { scores: true } };
      const probs = async (backend: 'cpu' | 'webgpu') => {
        const layers: Float32Array[] = [];
        const result = await client.inspect({ ...request, backend }, { onEvent: (e) => void (e.type === 'attention' && layers.push(e.probs)) });
        return { layers, used: result.backend.used };
      };
      const gpu = await probs('webgpu');
      const cpu = await probs('cpu');
      assert.strictEqual(gpu.used, 'webgpu');
      assert.strictEqual(gpu.layers.length, 5);
      gpu.layers.forEach((p, l) => assertClose(p, cpu.layers[l], { atol: 1e-5 }, `layer ${l}`));
    } finally {
      await client.dispose();
    }
  });
});

describe('CLI on WebGPU', function () {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-webgpu-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const run = (backend: string, env: NodeJS.ProcessEnv = {}) => {
    const meta = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'qwen2-tiny-random-bf16', 'zh_rain.json'), 'utf8'));
    const out = path.join(tmp, `${backend}.safetensors`);
    const json = path.join(tmp, `${backend}.json`);
    const r = spawnSync(process.execPath, [cli, 'inspect', '--model', sharedPath('models', 'qwen2-tiny-random-bf16'), '--text', meta.text, '--backend', backend,
      '--scores', '--hidden-states', '--out', out, '--json', json], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.strictEqual(r.status, 0, r.stderr);
    return { meta, tensors: readReference(out), backend: JSON.parse(fs.readFileSync(json, 'utf8')).backend };
  };

  it('--backend webgpu agrees with the fixture and with --backend cpu, and says it used webgpu', async function () {
    await webgpuOrSkip(this).then((b) => b.dispose());
    const gpu = run('webgpu');
    const cpu = run('cpu');
    assert.deepStrictEqual(gpu.backend.used, 'webgpu');
    const masked = (data: Float32Array) => (i: number) => data[i] <= -1e9 || !Number.isFinite(data[i]);
    for (const [name, ref] of readReference(sharedPath('fixtures', 'qwen2-tiny-random-bf16', 'zh_rain.safetensors'))) {
      const ours = gpu.tensors.get(name);
      assert.ok(ours, `${name} missing`);
      assertClose(ours.data, ref.data, { atol: gpu.meta.atol_hint }, `${name} vs fixture`, masked(ref.data));
      assertClose(ours.data, cpu.tensors.get(name)!.data, { atol: gpu.meta.atol_hint }, `${name} vs cpu`, masked(ref.data));
    }
  });

  it(`with ${NO_WEBGPU_ENV}=1, auto gives a CPU result and the reason`, () => {
    const r = run('auto', { [NO_WEBGPU_ENV]: '1' });
    assert.strictEqual(r.backend.used, 'cpu');
    assert.match(r.backend.fallbackReason, /turned off by ATTENTION_INSPECTOR_NO_WEBGPU=1/);
  });
});

describe('WebGPU backend objects', () => {
  it('refuses tensors of another backend and tensors used after release', async function () {
    const gpu: WebGpuBackend = await webgpuOrSkip(this);
    try {
      const x = gpu.fromFloat32(new Float32Array(4), [2, 2]);
      gpu.release([x]);
      assert.throws(() => gpu.scale(x, 2), /used after it was released/);
      assert.throws(() => gpu.scale({ shape: [1] }, 2), /does not belong to the WebGPU backend/);
    } finally {
      gpu.dispose();
    }
  });
});
