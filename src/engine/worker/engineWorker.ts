/**
 * The engine: its own process (or a worker thread, see transport.ts). Loads models, picks backends and
 * runs inspections, streaming every layer back to the client as soon as it is read. It yields to the
 * event loop between layers so a cancel message is seen mid-run. If WebGPU fails during an `auto` run,
 * the run is repeated on the CPU and the reason is reported: the user gets a correct picture, never a
 * partial one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BackendChoice, BackendSelection, selectBackend } from '../backends';
import { EngineError, EngineErrorCode, isEngineError, serializeError } from '../errors';
import { inspect } from '../inspect';
import { loadModel } from '../loadModel';
import { createCpuBackend } from '../cpu/createCpuBackend';
import { isDemoModel } from '../demo/demoModel';
import { collectGarbage } from './collectGarbage';
import { eventBuffers, FromWorker, InspectRequest, InspectStarted, ToWorker } from './messages';
import { ModelCache, ModelLease } from './modelCache';
import { openWorkerPort } from './workerPort';

const port = openWorkerPort();

/** Loaded models by folder and the state of its files: an edited config.json or tokenizer.json is read again. */
const models = new ModelCache();
/** What a loaded model's files do when they change or break after loading (its weights are read as they upload). */
const FILE_PROBLEMS: readonly EngineErrorCode[] = ['BAD_MODEL_FOLDER', 'BAD_SAFETENSORS'];
const backends = new Map<BackendChoice, Promise<BackendSelection>>();
const runs = new Map<number, AbortController>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.post(message, transfer);
}

function modelKey(source: string): string {
  if (isDemoModel(source)) return source;
  const files = ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'tokenizer.json'].map((name) => {
    try {
      const stat = fs.statSync(path.join(source, name));
      return `${stat.size}:${stat.mtimeMs}`;
    } catch {
      return '-';
    }
  });
  return `${path.resolve(source)}|${files.join('|')}`;
}

async function disposeBackends(): Promise<void> {
  const selections = [...backends.values()];
  backends.clear();
  for (const selection of selections) {
    try {
      (await selection).backend.dispose();
    } catch {
      // A backend that failed to start has nothing to release.
    }
  }
}

function backend(choice: BackendChoice): Promise<BackendSelection> {
  let selection = backends.get(choice);
  if (!selection) {
    selection = selectBackend(choice);
    backends.set(choice, selection);
    selection.catch(() => backends.delete(choice));
  }
  return selection;
}

/** Yields through the event loop's poll phase, where a cancel that arrived during the layer is read. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

async function runOnce(runId: number, request: InspectRequest, lease: ModelLease, selection: BackendSelection, signal: AbortSignal): Promise<void> {
  const { loaded } = lease;
  const report = { used: selection.used, adapter: selection.adapter, fallbackReason: selection.fallbackReason };
  let started: InspectStarted | undefined;
  let collected = false;
  const summary = await inspect(loaded, selection.backend, request.input, request.wants, {
    onStart: ({ source, target }) => {
      started = { model: loaded.model.info, source, target, backend: report };
      post({ type: 'started', runId, started });
    },
    onEvent: async (event) => {
      // The weights are uploaded by the first layer: what was read from disk for them is garbage now.
      if (!collected) collectGarbage();
      collected = true;
      post({ type: 'event', runId, event }, eventBuffers(event));
      await port.drained();
      await nextTurn();
      if (signal.aborted) throw new EngineError('CANCELLED', 'The run was cancelled.');
    },
    onToken: (token) => post({ type: 'token', runId, token }),
  }, signal, { memoryBudgetMB: request.memoryBudgetMB, streamed: true });
  post({ type: 'done', runId, result: { ...started!, timings: summary.timings, labels: summary.labels, generated: summary.generated } });
}

/** From now on, `auto` runs on the CPU, with the reason reported. */
function cpuForAuto(reason: string): BackendSelection {
  const replaced = backends.get('auto');
  const cpu = createCpuBackend();
  const fallback: BackendSelection = { backend: cpu, used: 'cpu', adapter: cpu.description.name, fallbackReason: reason };
  backends.set('auto', Promise.resolve(fallback));
  // The failed GPU backend is never used again: its device and buffers (the weights uploaded to it) go now.
  void replaced?.then((s) => s.used === 'webgpu' && s.backend.dispose(), () => undefined);
  return fallback;
}

async function run(runId: number, request: InspectRequest): Promise<void> {
  const controller = new AbortController();
  runs.set(runId, controller);
  const key = modelKey(request.model);
  let lease: ModelLease | undefined;
  try {
    // WebGPU crashed an earlier engine process: auto runs go to the CPU and say why.
    if (request.backend === 'auto' && request.gpuCrashed && !backends.has('auto')) cpuForAuto(`WebGPU crashed the engine: ${request.gpuCrashed}`);
    const selection = await backend(request.backend);
    lease = models.acquire(key, () => loadModel(request.model, { memoryBudgetMB: request.memoryBudgetMB }), request.maxLoadedModels);
    try {
      await runOnce(runId, request, lease, selection, controller.signal);
    } catch (err) {
      if (!(isEngineError(err) && err.code === 'GPU_FAILURE' && request.backend === 'auto')) throw err;
      // The GPU failed mid-run: every later auto run uses the CPU, and this one starts again there (its
      // weights read from disk again for the CPU).
      await runOnce(runId, request, lease, cpuForAuto(`WebGPU failed: ${err.message}`), controller.signal);
    }
  } catch (err) {
    // A model file that changed or broke under a loaded model: the next run reads the folder afresh.
    if (isEngineError(err) && FILE_PROBLEMS.includes(err.code)) models.forget(key);
    post({ type: 'failed', runId, error: serializeError(err) });
  } finally {
    lease?.end();
    runs.delete(runId);
  }
}

async function shutdown(): Promise<void> {
  for (const controller of runs.values()) controller.abort();
  await disposeBackends();
  post({ type: 'closed' });
  port.close();
}

port.onMessage((message: ToWorker) => {
  switch (message.type) {
    case 'inspect':
      void run(message.runId, message.request);
      break;
    case 'cancel':
      runs.get(message.runId)?.abort();
      break;
    case 'shutdown':
      void shutdown();
      break;
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
