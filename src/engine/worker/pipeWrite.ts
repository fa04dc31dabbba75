/** Blocking writes to the pipes the engine process shares with its client. */
import * as fs from 'fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes every byte before returning; a pipe that is momentarily full is waited for, not dropped. */
export function writeFully(fd: number, bytes: Uint8Array): void {
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
