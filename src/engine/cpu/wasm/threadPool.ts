/**
 * Runs kernel tasks on the calling thread plus (threads - 1) worker threads that share the kernels'
 * memory. The Backend interface is synchronous, so `run` blocks: it publishes a job, wakes the
 * workers, takes tasks itself and waits (Atomics.wait) only until every task is done, never for a
 * worker that is not running: on a busy machine a descheduled worker simply takes no task.
 *
 * Tasks are claimed by compare-and-swap on one 64-bit ticket, (job generation << 32) | next task, so a
 * worker that read an older job's arguments cannot claim a newer job's task. Job arguments alternate
 * between two slots; a slot is rewritten only two generations later, after the ticket has moved on,
 * so a successful claim always pairs a task with the arguments of its own job.
 * The engine runs in its own worker thread; the CLI and tests may block their main thread (Node allows it).
 */
import { Worker } from 'worker_threads';
import type { WasmInstance, WasmMemory, WasmModule } from './wasmApi';

/** Int32 slots of the control block (the worker's source below uses the same numbers). */
const enum Slot { Generation = 0, Shutdown = 1, Failed = 2, Done = 4 /* 4 + job slot */, Kernel = 6, Tasks = 8, ArgCount = 10 }
const MAX_ARGS = 24;
const TICKET_OFFSET = 64;
const ARGS_OFFSET = 128;

/** The worker's whole program, sent as source: it needs no bundle entry of its own. */
function workerMain(): void {
  const { workerData } = require('worker_threads');
  const { module, memory, control, kernels, threadIndex, maxArgs } = workerData;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = kernels.map((name: string) => instance.exports[name]);
  const ints = new Int32Array(control, 0, 16);
  const ticket = new BigInt64Array(control, 64, 1);
  const args = [new Float64Array(control, 128, maxArgs), new Float64Array(control, 128 + maxArgs * 8, maxArgs)];
  let seen = 0;
  for (;;) {
    Atomics.wait(ints, 0, seen);
    seen = Atomics.load(ints, 0);
    if (Atomics.load(ints, 1)) return;
    for (;;) {
      const current = Atomics.load(ticket, 0);
      const generation = Number(current >> 32n);
      const slot = generation & 1;
      const task = Number(current & 0xffffffffn);
      if (task >= ints[8 + slot]) break;
      const fn = fns[ints[6 + slot]];
      const jobArgs = Array.from(args[slot].subarray(0, ints[10 + slot]));
      if (Atomics.compareExchange(ticket, 0, current, current + 1n) !== current) continue;
      try {
        fn(...jobArgs, task, threadIndex);
      } catch (err) {
        Atomics.store(ints, 2, 1);
        console.error(`attention-inspector kernel thread ${threadIndex}: ${err}`);
      }
      if (Atomics.add(ints, 4 + slot, 1) + 1 === ints[8 + slot]) Atomics.notify(ints, 4 + slot);
    }
  }
}
declare const WebAssembly: { Instance: new (module: unknown, imports: unknown) => { exports: Record<string, never> } };

export class ThreadPool {
  private readonly ints: Int32Array;
  private readonly ticket: BigInt64Array;
  private readonly args: Float64Array[];
  private readonly workers: Worker[] = [];
  private readonly kernelIds: Map<string, number>;
  private generation = 0;

  /** `threads` counts the calling thread; `kernels` are the exports tasks may call. */
  constructor(module: WasmModule, memory: WasmMemory, private readonly instance: WasmInstance, readonly threads: number, kernels: readonly string[]) {
    const control = new SharedArrayBuffer(ARGS_OFFSET + 2 * MAX_ARGS * 8);
    this.ints = new Int32Array(control, 0, 16);
    this.ticket = new BigInt64Array(control, TICKET_OFFSET, 1);
    this.args = [0, 1].map((slot) => new Float64Array(control, ARGS_OFFSET + slot * MAX_ARGS * 8, MAX_ARGS));
    this.kernelIds = new Map(kernels.map((name, i) => [name, i]));
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(`(${workerMain.toString()})()`, {
        eval: true,
        workerData: { module, memory, control, kernels, threadIndex: i, maxArgs: MAX_ARGS },
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
    const generation = ++this.generation;
    const slot = generation & 1;
    this.args[slot].set(args);
    ints[Slot.Kernel + slot] = this.kernelIds.get(kernel)!;
    ints[Slot.ArgCount + slot] = args.length;
    ints[Slot.Tasks + slot] = tasks;
    Atomics.store(ints, Slot.Done + slot, 0);
    Atomics.store(this.ticket, 0, BigInt(generation) << 32n);
    Atomics.store(ints, Slot.Generation, generation);
    Atomics.notify(ints, Slot.Generation);
    let failure: unknown;
    for (;;) {
      const current = Atomics.load(this.ticket, 0);
      const task = Number(current & 0xffffffffn);
      if (task >= tasks) break;
      if (Atomics.compareExchange(this.ticket, 0, current, current + 1n) !== current) continue;
      try {
        if (!failure) fn(...args, task, 0);
      } catch (err) {
        failure = err;
      }
      Atomics.add(ints, Slot.Done + slot, 1);
    }
    for (let done = Atomics.load(ints, Slot.Done + slot); done !== tasks; done = Atomics.load(ints, Slot.Done + slot)) {
      Atomics.wait(ints, Slot.Done + slot, done);
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
