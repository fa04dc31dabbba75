/**
 * How the client reaches the engine. By default a separate process (the editor's and the CLI's
 * choice): a native abort (a Rust panic in the tokenizers library, Dawn) or running out of memory ends
 * that process only, and its death is reported as ENGINE_CRASHED saying what it was doing. A worker
 * thread (zero-copy transfers, no isolation) remains for benchmarks that measure what isolation costs.
 * The client sees the same two callbacks either way, so message contents change without touching this.
 */
import { ChildProcess, fork } from 'child_process';
import * as os from 'os';
import { Worker } from 'worker_threads';
import { EngineError } from '../errors';
import type { ActivityNote, NativeActivity } from '../nativeActivity';
import { crashError } from './crash';
import { FrameKind, FrameReader } from './frames';
import type { FromWorker, ToWorker } from './messages';
import { ENGINE_FRAMES_FD, ENGINE_NOTES_FD } from './workerPort';

export type TransportKind = 'process' | 'thread';

export interface TransportEvents {
  onMessage(message: FromWorker): void;
  /** The engine ended without being asked to (how, for a process): every run it held has failed with this error. */
  onLost(error: Error, exit?: { code: number | null; signal: NodeJS.Signals | null }): void;
  /** The engine's stdout and stderr (log them; never show them as an error). */
  onOutput?(text: string): void;
}

export interface EngineTransport {
  send(message: ToWorker): void;
  /** Ends the engine now; it is not reported as lost. */
  kill(): void;
  /** Resolves once the engine has exited. */
  readonly exited: Promise<void>;
  /** The engine's process id (a process transport only). */
  readonly pid?: number;
}

const STDERR_TAIL = 16 * 1024;

export interface ProcessOptions {
  readonly args?: readonly string[];
  /** Let the process write to this one's stdout (a CLI command's output) instead of reporting it. */
  readonly inheritStdout?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** Run below normal priority, so that the editor's own processes keep the CPU while the engine computes. */
  readonly lowPriority?: boolean;
}

/** A nice value of 10: below the editor, above idle work (Windows: below-normal priority class). */
const LOW_PRIORITY = 10;

/** A script in its own Node process, its frames read from fd 3 and its death explained (crash.ts). */
export class ProcessTransport implements EngineTransport {
  private readonly child: ChildProcess;
  private readonly activities = new Map<number, NativeActivity>();
  private stderr = '';
  private killed = false;
  readonly exited: Promise<void>;

  constructor(script: string, private readonly events: TransportEvents, options: ProcessOptions = {}) {
    this.child = fork(script, [...(options.args ?? [])], {
      // 0 stdin, 1 stdout, 2 stderr, 3 the engine's messages, 4 its native-activity notes, then Node's IPC for requests.
      stdio: ['ignore', options.inheritStdout ? 'inherit' : 'pipe', 'pipe', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      execArgv: [],
      // Under Electron (desktop VS Code) process.execPath is the editor: this makes it plain Node.
      env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    if (options.lowPriority && this.child.pid !== undefined) {
      try {
        os.setPriority(this.child.pid, Math.max(os.getPriority(), LOW_PRIORITY));
      } catch {
        // Not permitted here (some containers): the engine runs at normal priority.
      }
    }
    const frames = new FrameReader((kind, value) => {
      if (kind === FrameKind.Message) this.events.onMessage(value as FromWorker);
    });
    const notes = new FrameReader((kind, value) => {
      const note = value as ActivityNote;
      if (kind !== FrameKind.Activity) return;
      if (note.activity) this.activities.set(note.id, note.activity);
      else this.activities.delete(note.id);
    });
    (this.child.stdio[ENGINE_FRAMES_FD] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => frames.push(chunk));
    (this.child.stdio[ENGINE_NOTES_FD] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => notes.push(chunk));
    this.child.stdout?.on('data', (chunk: Buffer) => this.events.onOutput?.(chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
      this.events.onOutput?.(text);
    });
    this.child.on('error', (err) => this.lost(new EngineError('ENGINE_CRASHED', `The engine process could not run: ${err.message}`, { remedies: ['retry'] })));
    // 'close' comes after the pipes are drained: every frame and note written before a crash has been read.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        resolve();
        const activity = [...this.activities.values()].pop();
        this.lost(crashError({ code, signal, activity, stderr: this.stderr }), { code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  kill(): void {
    this.killed = true;
    this.child.kill('SIGKILL');
  }

  private lost(error: EngineError, exit?: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.killed) return;
    this.killed = true;
    this.events.onLost(error, exit);
  }
}

class ThreadTransport implements EngineTransport {
  private readonly worker: Worker;
  private killed = false;
  readonly exited: Promise<void>;

  constructor(script: string, private readonly events: TransportEvents) {
    this.worker = new Worker(script);
    this.worker.on('message', (m: FromWorker) => this.events.onMessage(m));
    this.worker.on('error', (err) => this.lost(new Error(`The engine worker crashed: ${err.message}`)));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      resolve();
      this.lost(new Error(`The engine worker exited (code ${code}).`));
    }));
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  kill(): void {
    this.killed = true;
    void this.worker.terminate();
  }

  private lost(error: Error): void {
    if (this.killed) return;
    this.killed = true;
    this.events.onLost(error);
  }
}

export function startTransport(kind: TransportKind, script: string, events: TransportEvents, options: ProcessOptions = {}): EngineTransport {
  return kind === 'process' ? new ProcessTransport(script, events, options) : new ThreadTransport(script, events);
}
