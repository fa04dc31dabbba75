/**
 * The engine's end of the channel to its client. In its own process (how the editor and the CLI run
 * it) requests arrive over Node's IPC and everything the engine says leaves as binary frames
 * (frames.ts) on fd 3, written by a writer thread (frameWriter.ts) to which the layer buffers are
 * transferred: nothing is copied into a clone, and the next layer computes while this one travels.
 * Native-activity notes go to fd 4, written synchronously by the engine's own thread, so a note is in
 * the pipe before the native call it announces can abort the process. In a worker thread
 * (benchmarks) it is the thread's port, with transfers.
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
    return { post: (message, transfer = []) => port.postMessage(message, transfer), onMessage: (listener) => port.on('message', listener), close: () => port.close() };
  }
  if (!process.send) throw new Error('engineWorker runs in a worker thread or in a child process with an IPC channel');
  reportNativeActivity();
  const writer = startWriter();
  // The client is gone (the editor closed, the CLI ended): so is the engine.
  process.on('disconnect', () => process.exit(0));
  return {
    // The frame's head and clone are small and copied; the layer buffers move to the writer.
    post: (message, transfer = []) => writer.postMessage({ pieces: encodeFrame(FrameKind.Message, message, transfer) }, [...new Set(transfer)]),
    onMessage: (listener) => process.on('message', listener as (message: unknown) => void),
    close: () => {
      writer.once('message', () => process.exit(0));
      writer.postMessage({ flush: true });
    },
  };
}
