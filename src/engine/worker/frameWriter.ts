/**
 * The engine process's writer thread: it writes the frames the engine posts to it (their layer buffers
 * transferred, not copied) to the client's pipe, blocking on the pipe while the engine computes the next
 * layer, so a layer's transfer overlaps the next one's computation. A `flush` is answered once everything
 * before it is written.
 */
import { parentPort, workerData } from 'worker_threads';
import { writeFully } from './pipeWrite';

const fd = (workerData as { fd: number }).fd;

parentPort!.on('message', (message: { pieces?: Uint8Array[]; flush?: boolean }) => {
  for (const piece of message.pieces ?? []) writeFully(fd, piece);
  if (message.flush) parentPort!.postMessage('flushed');
});
