/**
 * The engine's thread. Loads models, picks backends and runs inspections, streaming every layer back
 * to the client as soon as it is read. It yields to the event loop between layers so a cancel message
 * is seen mid-run. If WebGPU fails during an `auto` run, the run is repeated on the CPU and the reason
 * is reported: the user gets a correct picture, never a partial one.
 */
import { parentPort } from 'worker_threads';
import { BackendChoice, BackendSelection, selectBackend } from '../backends';
import { EngineError, isEngineError, serializeError } from '../errors';
import { inspect } from '../inspect';
import { LoadedModel, loadModel } from '../loadModel';
import { createCpuBackend } from '../cpu/createCpuBackend';
import { eventBuffers, FromWorker, InspectRequest, InspectStarted, ToWorker } from './messages';

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread');

const models = new Map<string, LoadedModel>();
const backends = new Map<BackendChoice, Promise<BackendSelection>>();
const runs = new Map<number, AbortController>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function model(source: string): LoadedModel {
  let loaded = models.get(source);
  if (!loaded) {
    loaded = loadModel(source);
    models.set(source, loaded);
  }
  return loaded;
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

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runOnce(runId: number, request: InspectRequest, selection: BackendSelection, signal: AbortSignal): Promise<void> {
  const loaded = model(request.model);
  const report = { used: selection.used, adapter: selection.adapter, fallbackReason: selection.fallbackReason };
  let started: InspectStarted | undefined;
  const summary = await inspect(loaded, selection.backend, request.input, request.wants, {
    onStart: ({ source, target }) => {
      started = { model: loaded.model.info, source, target, backend: report };
      post({ type: 'started', runId, started });
    },
    onEvent: async (event) => {
      post({ type: 'event', runId, event }, eventBuffers(event));
      await nextTurn();
      if (signal.aborted) throw new EngineError('CANCELLED', 'The run was cancelled.');
    },
    onToken: (token) => post({ type: 'token', runId, token }),
  }, signal);
  post({ type: 'done', runId, result: { ...started!, timings: summary.timings, labels: summary.labels, generated: summary.generated } });
}

async function run(runId: number, request: InspectRequest): Promise<void> {
  const controller = new AbortController();
  runs.set(runId, controller);
  try {
    const selection = await backend(request.backend);
    try {
      await runOnce(runId, request, selection, controller.signal);
    } catch (err) {
      if (!(isEngineError(err) && err.code === 'GPU_FAILURE' && request.backend === 'auto')) throw err;
      // The GPU failed mid-run: every later auto run uses the CPU, and this one starts again there.
      const cpu = createCpuBackend();
      const fallback: BackendSelection = { backend: cpu, used: 'cpu', adapter: cpu.description.name, fallbackReason: `WebGPU failed: ${err.message}` };
      backends.set('auto', Promise.resolve(fallback));
      await runOnce(runId, request, fallback, controller.signal);
    }
  } catch (err) {
    post({ type: 'failed', runId, error: serializeError(err) });
  } finally {
    runs.delete(runId);
  }
}

async function shutdown(): Promise<void> {
  for (const controller of runs.values()) controller.abort();
  for (const selection of backends.values()) {
    try {
      (await selection).backend.dispose();
    } catch {
      // A backend that failed to start has nothing to release.
    }
  }
  backends.clear();
  post({ type: 'closed' });
  port!.close();
}

port.on('message', (message: ToWorker) => {
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
