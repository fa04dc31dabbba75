// Follows a file that another process appends to (the suite's log), passing on each new chunk.
import * as fs from 'fs';
import { sleep } from './codeServerProcess';

const POLL_INTERVAL_MS = 200;

export interface FileTail {
  /** Passes on what is left, then stops following. */
  stop(): Promise<void>;
}

export function tailFile(file: string, onText: (text: string) => void): FileTail {
  let offset = 0;
  let stopped = false;
  const drain = (): void => {
    if (!fs.existsSync(file)) return;
    const size = fs.statSync(file).size;
    if (size <= offset) return;
    const buffer = Buffer.alloc(size - offset);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      fs.closeSync(fd);
    }
    offset = size;
    onText(buffer.toString('utf8'));
  };
  const loop = (async () => {
    while (!stopped) {
      drain();
      await sleep(POLL_INTERVAL_MS);
    }
    drain();
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
