/**
 * The client side of the engine: what the extension host, the CLI and tests call. The engine runs in
 * its own process (transport.ts), so runs never block the caller and nothing the engine does can take
 * the caller down. Each run can be cancelled; an engine that stops answering a cancel is ended, and
 * one that crashes or exits fails the runs it held with what happened (ENGINE_CRASHED: which native
 * library, on which file) and is replaced by a fresh one on the next run.
 */
import { EngineError, deserializeError, isEngineError } from '../errors';
import type { InspectHandlers } from '../inspect';
import type { FromWorker, InspectRequest, InspectResult, InspectStarted } from './messages';
import { EngineTransport, TransportKind, startTransport } from './transport';

export type { InspectRequest, InspectResult, InspectStarted } from './messages';

interface PendingRun {
  readonly handlers: InspectHandlers<InspectStarted>;
  resolve(result: InspectResult): void;
  reject(err: Error): void;
}

export interface EngineClientOptions {
  /** 'process' (default): isolated. 'thread': in the caller's process, for measuring what isolation costs. */
  readonly transport?: TransportKind;
  /** The memory budget in MB sent with every run (read at each run: a setting may change); 0 or absent: automatic. */
  readonly memoryBudgetMB?: () => number | undefined;
  /** How many models the engine keeps loaded, sent with every run; absent: the engine's default. */
  readonly maxLoadedModels?: () => number | undefined;
  /** The engine's stdout and stderr, for a log. */
  readonly onOutput?: (text: string) => void;
  /**
   * Run the engine process below normal priority: in the editor, where on a busy machine the panel,
   * the extension host and the workbench must not wait behind the engine's threads.
   */
  readonly lowPriority?: boolean;
}

/** A cancel that the engine has not honoured by then (one long layer) ends the engine instead. */
const CANCEL_GRACE_MS = 1500;

export class EngineClient {
  private transport: EngineTransport | undefined;
  private nextRunId = 1;
  private readonly pending = new Map<number, PendingRun>();
  /** Resolves a dispose's wait when the engine confirms it has released its devices. */
  private closed: (() => void) | undefined;
  /** Why WebGPU crashed an engine, once it has: later auto runs go to the CPU instead of crashing again. */
  private gpuCrashed: string | undefined;

  constructor(private readonly workerScript: string, private readonly options: EngineClientOptions = {}) {}

  inspect(request: InspectRequest, handlers: InspectHandlers<InspectStarted>, signal?: AbortSignal): Promise<InspectResult> {
    if (signal?.aborted) return Promise.reject(new EngineError('CANCELLED', 'The run was cancelled.'));
    const runId = this.nextRunId++;
    const transport = this.ensureTransport();
    const memoryBudgetMB = request.memoryBudgetMB ?? this.options.memoryBudgetMB?.();
    const maxLoadedModels = request.maxLoadedModels ?? this.options.maxLoadedModels?.();
    return new Promise<InspectResult>((resolve, reject) => {
      this.pending.set(runId, { handlers, resolve, reject });
      signal?.addEventListener('abort', () => this.cancel(runId), { once: true });
      transport.send({ type: 'inspect', runId, request: { ...request, memoryBudgetMB, maxLoadedModels, gpuCrashed: request.gpuCrashed ?? this.gpuCrashed } });
    });
  }

  /** The engine process's id while one runs (for measuring its memory). */
  get enginePid(): number | undefined {
    return this.transport?.pid;
  }

  /** Stops the engine and releases its GPU device; later runs start a new one. */
  async dispose(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    this.transport = undefined;
    transport.send({ type: 'shutdown' });
    const confirmed = new Promise<void>((resolve) => (this.closed = resolve));
    await Promise.race([transport.exited, confirmed, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.closed = undefined;
    transport.kill();
    this.failAll(new EngineError('CANCELLED', 'The engine was shut down.'));
  }

  private ensureTransport(): EngineTransport {
    if (this.transport) return this.transport;
    const transport: EngineTransport = startTransport(this.options.transport ?? 'process', this.workerScript, {
      onMessage: (m) => this.receive(m),
      onLost: (err) => {
        if (this.transport !== transport) return;
        this.transport = undefined;
        if (isEngineError(err) && err.details.activity === 'gpu-start') this.gpuCrashed = err.message;
        this.failAll(err);
      },
      onOutput: this.options.onOutput,
    }, { lowPriority: this.options.lowPriority });
    this.transport = transport;
    return transport;
  }

  private cancel(runId: number): void {
    const transport = this.transport;
    if (!this.pending.has(runId) || !transport) return;
    transport.send({ type: 'cancel', runId });
    setTimeout(() => {
      if (!this.pending.has(runId) || this.transport !== transport) return;
      // The engine is stuck inside one long computation: end it rather than let the run linger.
      this.transport = undefined;
      transport.kill();
      this.failAll(new EngineError('CANCELLED', 'The run was cancelled.'));
    }, CANCEL_GRACE_MS).unref();
  }

  private failAll(err: Error): void {
    for (const run of this.pending.values()) run.reject(err);
    this.pending.clear();
  }

  private receive(message: FromWorker): void {
    if (message.type === 'closed') return this.closed?.();
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
