/**
 * The engine's end of the channel to its client. In its own process (how the editor and the CLI run
 * it) requests arrive over Node's IPC and everything the engine says leaves as binary frames
 * (frames.ts) on fd 3, written by a writer thread (frameWriter.ts) to which the layer buffers are
 * transferred: nothing is copied into a clone, and the next layer computes while this one travels.
 * Native-activity notes go to fd 4, written synchronously by the engine's own thread, so a note is in
 * the pipe before the native call it announces can abort the process. In a worker thread
 * (benchmarks) it is the thread's port, with transfers.
 *
 * When the client reads more slowly than the engine computes (the CLI deflating each layer into a
 * report), frames would queue in the writer without bound, a whole layer each: 1.3 GB for GPT-2 small at
 * 1,000 tokens. The engine waits (`drained`) before its next layer while more than one frame is
 * waiting behind the one being written.
 */
import * as path from 'path';
import { Worker, parentPort } from 'worker_threads';
import { setActivitySink } from '../nativeActivity';
import { FrameKind, encodeFrame } from './frames';
import type { FromWorker, ToWorker } from './messages';
import { writeFully } from './pipeWrite';

/** The engine process's messages to the client (the client opens it as a pipe). */
export const ENGINE_FRAMES_FD = 3;
/** Its native-activity notes. */
export const ENGINE_NOTES_FD = 4;

export interface WorkerPort {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  /** Resolves once the client has caught up enough for the engine to compute on. */
  drained(): Promise<void>;
  onMessage(listener: (message: ToWorker) => void): void;
  /** After the last message: ends the thread's port, or the process. */
  close(): void;
}

/** In a process started by ProcessTransport: native-activity notes go to the parent. */
export function reportNativeActivity(): void {
  setActivitySink((note) => {
    for (const piece of encodeFrame(FrameKind.Activity, note)) writeFully(ENGINE_NOTES_FD, piece);
  });
}

/** What the engine posts to its writer thread, and what the writer answers. */
export interface ToWriter {
  pieces?: Uint8Array[];
  readonly flush?: boolean;
}

export type FromWriter = { readonly written: number } | { readonly flushed: true };

/** Frames written in one go are not waited for below this much: small frames never hold the engine up. */
const WAIT_ABOVE_BYTES = 8 * 2 ** 20;

/** The writer thread beside this file (dist/ or out/): the bundle and the compiled tests both have one. */
function startWriter(): Worker {
  const writer = new Worker(path.join(__dirname, 'frameWriter.js'), { workerData: { fd: ENGINE_FRAMES_FD } });
  writer.on('error', (err) => {
    process.stderr.write(`the engine's frame writer failed: ${err.stack ?? err.message}\n`);
    process.exit(70);
  });
  return writer;
}

export function openWorkerPort(): WorkerPort {
  const port = parentPort;
  if (port) {
    return {
      post: (message, transfer = []) => port.postMessage(message, transfer), drained: async () => undefined,
      onMessage: (listener) => port.on('message', listener), close: () => port.close(),
    };
  }
  if (!process.send) throw new Error('engineWorker runs in a worker thread or in a child process with an IPC channel');
  reportNativeActivity();
  const writer = startWriter();
  // The client is gone (the editor closed, the CLI ended): so is the engine.
  process.on('disconnect', () => process.exit(0));
  const queued: number[] = [];
  let queuedBytes = 0;
  const waiting: (() => void)[] = [];
  const caughtUp = () => queued.length <= 1 || queuedBytes <= WAIT_ABOVE_BYTES;
  writer.on('message', (answer: FromWriter) => {
    if ('flushed' in answer) process.exit(0);
    queuedBytes -= queued.shift() ?? 0;
    if (caughtUp()) for (const resolve of waiting.splice(0)) resolve();
  });
  return {
    // The frame's head and clone are small and copied; the layer buffers move to the writer.
    post: (message, transfer = []) => {
      const pieces = encodeFrame(FrameKind.Message, message, transfer);
      const bytes = pieces.reduce((n, p) => n + p.byteLength, 0);
      queued.push(bytes);
      queuedBytes += bytes;
      writer.postMessage({ pieces } satisfies ToWriter, [...new Set(transfer)]);
    },
    drained: () => (caughtUp() ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
    onMessage: (listener) => process.on('message', listener as (message: unknown) => void),
    close: () => writer.postMessage({ flush: true } satisfies ToWriter),
  };
}
