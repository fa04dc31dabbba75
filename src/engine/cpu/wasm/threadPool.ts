/**
 * Runs kernel tasks on the calling thread plus (threads - 1) worker threads that share the kernels'
 * memory. The Backend interface is synchronous, so `run` blocks: it publishes a job in a small shared
 * control block, wakes the workers, takes tasks itself from the same atomic counter, and waits with
 * Atomics.wait until every worker has checked out of the job. Workers check out only after their last
 * task, so a returning `run` means all tasks are done, and no worker can still be reading the job's
 * arguments when the next job overwrites them. The engine already runs in its own worker thread; the
 * CLI and tests may block their main thread, which Node allows.
 */
import { Worker } from 'worker_threads';
import type { WasmInstance, WasmMemory, WasmModule } from './wasmApi';

const enum Slot { Generation, CheckedOut, NextTask, Tasks, Kernel, ArgCount, Shutdown, Failed }
const MAX_ARGS = 24;
const ARGS_OFFSET = 64;

/** The worker's whole program, sent as source: it needs no bundle entry of its own. */
function workerMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { workerData } = require('worker_threads');
  const { module, memory, control, kernels, threadIndex, workers } = workerData;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = kernels.map((name: string) => instance.exports[name]);
  const ints = new Int32Array(control, 0, 16);
  const args = new Float64Array(control, 64, 24);
  let seen = 0;
  for (;;) {
    Atomics.wait(ints, 0, seen);
    seen = Atomics.load(ints, 0);
    if (Atomics.load(ints, 6)) return;
    try {
      const fn = fns[ints[4]];
      const jobArgs = Array.from(args.subarray(0, ints[5]));
      const tasks = ints[3];
      for (let task = Atomics.add(ints, 2, 1); task < tasks; task = Atomics.add(ints, 2, 1)) fn(...jobArgs, task, threadIndex);
    } catch (err) {
      Atomics.store(ints, 7, 1);
      console.error(`attention-inspector kernel thread ${threadIndex}: ${err}`);
    }
    if (Atomics.add(ints, 1, 1) + 1 === workers) Atomics.notify(ints, 1);
  }
}
declare const WebAssembly: { Instance: new (module: unknown, imports: unknown) => { exports: Record<string, never> } };

export class ThreadPool {
  private readonly ints: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: Worker[] = [];
  private readonly kernelIds: Map<string, number>;

  /** `threads` counts the calling thread; kernels are the instance's exports tasks may call. */
  constructor(module: WasmModule, memory: WasmMemory, private readonly instance: WasmInstance, readonly threads: number, kernels: readonly string[]) {
    const control = new SharedArrayBuffer(ARGS_OFFSET + MAX_ARGS * 8);
    this.ints = new Int32Array(control, 0, 16);
    this.args = new Float64Array(control, ARGS_OFFSET, MAX_ARGS);
    this.kernelIds = new Map(kernels.map((name, i) => [name, i]));
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(`(${workerMain.toString()})()`, {
        eval: true,
        workerData: { module, memory, control, kernels, threadIndex: i, workers: threads - 1 },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Runs kernel(...args, task, thread) for task = 0 … tasks-1 and returns when all are done. */
  run(kernel: string, args: readonly number[], tasks: number): void {
    const fn = this.instance.exports[kernel];
    if (tasks <= 1 || this.workers.length === 0) {
      for (let task = 0; task < tasks; task++) fn(...args, task, 0);
      return;
    }
    const ints = this.ints;
    this.args.set(args);
    ints[Slot.Kernel] = this.kernelIds.get(kernel)!;
    ints[Slot.ArgCount] = args.length;
    ints[Slot.Tasks] = tasks;
    Atomics.store(ints, Slot.NextTask, 0);
    Atomics.store(ints, Slot.CheckedOut, 0);
    Atomics.add(ints, Slot.Generation, 1);
    Atomics.notify(ints, Slot.Generation);
    let failure: unknown;
    try {
      for (let task = Atomics.add(ints, Slot.NextTask, 1); task < tasks; task = Atomics.add(ints, Slot.NextTask, 1)) fn(...args, task, 0);
    } catch (err) {
      failure = err;
      Atomics.store(ints, Slot.NextTask, tasks); // the workers stop taking tasks
    }
    for (let done = Atomics.load(ints, Slot.CheckedOut); done !== this.workers.length; done = Atomics.load(ints, Slot.CheckedOut)) {
      Atomics.wait(ints, Slot.CheckedOut, done);
    }
    if (failure) throw failure;
    if (Atomics.exchange(ints, Slot.Failed, 0)) throw new Error(`${kernel}: a kernel thread failed (see the log)`);
  }

  dispose(): void {
    Atomics.store(this.ints, Slot.Shutdown, 1);
    Atomics.add(this.ints, Slot.Generation, 1);
    Atomics.notify(this.ints, Slot.Generation);
    for (const worker of this.workers) void worker.terminate();
    this.workers.length = 0;
  }
}
