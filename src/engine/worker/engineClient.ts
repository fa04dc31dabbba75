/**
 * The client side of the engine worker: what the extension host (and tests) call. Runs never block the
 * caller's thread; each can be cancelled; a worker that stops answering a cancel, crashes or exits is
 * replaced by a fresh one on the next run, and the runs it held fail with a clear message.
 */
import { Worker } from 'worker_threads';
import { EngineError, deserializeError } from '../errors';
import type { InspectHandlers } from '../inspect';
import type { FromWorker, InspectRequest, InspectResult, InspectStarted, ToWorker } from './messages';

export type { InspectRequest, InspectResult, InspectStarted } from './messages';


interface PendingRun {
  readonly handlers: InspectHandlers<InspectStarted>;
  resolve(result: InspectResult): void;
  reject(err: Error): void;
}

/** A cancel that the worker has not honoured by then (one long layer) ends the worker instead. */
const CANCEL_GRACE_MS = 1500;

export class EngineClient {
  private worker: Worker | undefined;
  private nextRunId = 1;
  private readonly pending = new Map<number, PendingRun>();

  constructor(private readonly workerScript: string) {}

  inspect(request: InspectRequest, handlers: InspectHandlers<InspectStarted>, signal?: AbortSignal): Promise<InspectResult> {
    if (signal?.aborted) return Promise.reject(new EngineError('CANCELLED', 'The run was cancelled.'));
    const runId = this.nextRunId++;
    const worker = this.ensureWorker();
    return new Promise<InspectResult>((resolve, reject) => {
      this.pending.set(runId, { handlers, resolve, reject });
      signal?.addEventListener('abort', () => this.cancel(runId), { once: true });
      this.send(worker, { type: 'inspect', runId, request });
    });
  }

  /** Stops the worker and releases its GPU device; later runs start a new worker. */
  async dispose(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const closed = new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
    });
    this.send(worker, { type: 'shutdown' });
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    await worker.terminate();
    this.failAll(new EngineError('CANCELLED', 'The engine was shut down.'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerScript);
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (err) => this.lost(worker, `The engine worker crashed: ${err.message}`));
    worker.on('exit', (code) => this.lost(worker, `The engine worker exited (code ${code}).`));
    this.worker = worker;
    return worker;
  }

  private send(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  private cancel(runId: number): void {
    const run = this.pending.get(runId);
    const worker = this.worker;
    if (!run || !worker) return;
    this.send(worker, { type: 'cancel', runId });
    setTimeout(() => {
      if (!this.pending.has(runId) || this.worker !== worker) return;
      // The worker is stuck inside one long computation: end it rather than let the run linger.
      this.worker = undefined;
      void worker.terminate();
      this.failAll(new EngineError('CANCELLED', 'The run was cancelled.'));
    }, CANCEL_GRACE_MS).unref();
  }

  private lost(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failAll(new Error(why));
  }

  private failAll(err: Error): void {
    for (const run of this.pending.values()) run.reject(err);
    this.pending.clear();
  }

  private receive(message: FromWorker): void {
    if (message.type === 'closed') return;
    const run = this.pending.get(message.runId);
    if (!run) return; // a cancelled run's late messages
    switch (message.type) {
      case 'started':
        run.handlers.onStart?.(message.started);
        break;
      case 'event':
        run.handlers.onEvent(message.event);
        break;
      case 'token':
        run.handlers.onToken?.(message.token);
        break;
      case 'done':
        this.pending.delete(message.runId);
        run.resolve(message.result);
        break;
      case 'failed':
        this.pending.delete(message.runId);
        run.reject(deserializeError(message.error));
        break;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }
}
