/**
 * The engine process's writer thread: it writes the frames the engine posts to it (their layer buffers
 * transferred, not copied) to the client's pipe, blocking on the pipe while the engine computes the next
 * layer, so a layer's transfer overlaps the next one's computation. Each frame written is acknowledged
 * with its size (the engine waits when the client falls behind); a `flush` is answered once everything
 * before it is written.
 */
import { parentPort, workerData } from 'worker_threads';
import { collectGarbage } from './collectGarbage';
import { writeFully } from './pipeWrite';
import type { FromWriter, ToWriter } from './workerPort';

const fd = (workerData as { fd: number }).fd;
/** A frame this large is freed as soon as it is written, not whenever this thread's heap next fills. */
const COLLECT_AFTER_BYTES = 8 * 2 ** 20;

function writeFrame(pieces: readonly Uint8Array[]): number {
  let written = 0;
  for (const piece of pieces) {
    writeFully(fd, piece);
    written += piece.byteLength;
  }
  return written;
}

parentPort!.on('message', (message: ToWriter) => {
  if (message.pieces) {
    const written = writeFrame(message.pieces);
    message.pieces = undefined; // the last reference to the layer's buffers
    if (written >= COLLECT_AFTER_BYTES) collectGarbage();
    parentPort!.postMessage({ written } satisfies FromWriter);
  }
  if (message.flush) parentPort!.postMessage({ flushed: true } satisfies FromWriter);
});
