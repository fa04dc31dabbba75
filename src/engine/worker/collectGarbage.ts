/**
 * A full garbage collection, on demand, for the engine's process and its writer thread. V8 returns an
 * ArrayBuffer's memory only when it collects the buffer, and it collects when its own (small) heap
 * fills, not when buffers pile up outside it: after uploading GPT-2 small, the 154 MB embedding read
 * from disk stayed resident, and each written layer's buffers (50 MB at 1,024 tokens) lingered in the
 * writer thread. The engine collects at those points, right after the memory became garbage; a
 * collection costs milliseconds there, as the JavaScript heaps of both threads are small.
 */
import * as v8 from 'v8';
import * as vm from 'vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    // The flag only adds gc() to contexts made after it is set: a new one is made here to fetch it.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
