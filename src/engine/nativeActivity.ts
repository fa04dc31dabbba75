/**
 * What the engine is doing inside native code that can abort the whole process (the tokenizers
 * library's Rust panics, Dawn). In the engine's own process every begin and end is written
 * synchronously to its parent before the call, so that when the process dies by a signal the parent
 * can say what crashed and on which file. Anywhere else (tests, the engine in-process) it costs nothing.
 */

export type NativeTask = 'tokenizer-load' | 'tokenizer-encode' | 'tokenizer-decode' | 'gpu-start';

export interface NativeActivity {
  readonly task: NativeTask;
  readonly file?: string;
}

/** A begin (with the activity) or an end of activity `id`. */
export interface ActivityNote {
  readonly id: number;
  readonly activity?: NativeActivity;
}

let sink: ((note: ActivityNote) => void) | undefined;
let nextId = 1;

/** Installed by the engine process: writes each note where the parent reads it, before returning. */
export function setActivitySink(write: ((note: ActivityNote) => void) | undefined): void {
  sink = write;
}

export function duringNative<T>(activity: NativeActivity, call: () => T): T {
  if (!sink) return call();
  const id = nextId++;
  sink({ id, activity });
  try {
    return call();
  } finally {
    sink?.({ id });
  }
}

export async function duringNativeAsync<T>(activity: NativeActivity, call: () => Promise<T>): Promise<T> {
  if (!sink) return call();
  const id = nextId++;
  sink({ id, activity });
  try {
    return await call();
  } finally {
    sink?.({ id });
  }
}
