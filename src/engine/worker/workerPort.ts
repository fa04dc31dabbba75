/**
 * The engine's end of the channel to its client. In its own process (how the editor and the CLI run
 * it) requests arrive over Node's IPC and everything the engine says leaves as binary frames
 * (frames.ts) written synchronously to fd 3: a layer's buffers go out without a copy into a clone, the
 * order of messages and native-activity notes is the order of the writes, and a note is in the pipe
 * before the native call it announces can abort the process. In a worker thread (benchmarks) it is the
 * thread's port, with transfers.
 */
import * as fs from 'fs';
import { parentPort } from 'worker_threads';
import { setActivitySink } from '../nativeActivity';
import { FrameKind, encodeFrame } from './frames';
import type { FromWorker, ToWorker } from './messages';

/** The engine process writes its frames here (the client opens it as a pipe). */
export const ENGINE_FRAMES_FD = 3;

export interface WorkerPort {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** After the last message: ends the thread's port, or the process. */
  close(): void;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** A blocking write of every byte; a pipe that is momentarily full is waited for, not dropped. */
function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Frames to the parent on ENGINE_FRAMES_FD, each written whole before this returns. */
function writeFrame(kind: FrameKind, value: unknown, transfer?: ArrayBuffer[]): void {
  for (const piece of encodeFrame(kind, value, transfer)) writeFully(ENGINE_FRAMES_FD, piece);
}

/** In a process started by ProcessTransport: native-activity notes go to the parent. */
export function reportNativeActivity(): void {
  setActivitySink((note) => writeFrame(FrameKind.Activity, note));
}

export function openWorkerPort(): WorkerPort {
  const port = parentPort;
  if (port) {
    return { post: (message, transfer = []) => port.postMessage(message, transfer), onMessage: (listener) => port.on('message', listener), close: () => port.close() };
  }
  if (!process.send) throw new Error('engineWorker runs in a worker thread or in a child process with an IPC channel');
  reportNativeActivity();
  // The client is gone (the editor closed, the CLI ended): so is the engine.
  process.on('disconnect', () => process.exit(0));
  return {
    post: (message, transfer) => writeFrame(FrameKind.Message, message, transfer),
    onMessage: (listener) => process.on('message', listener as (message: unknown) => void),
    close: () => process.exit(0),
  };
}
