/**
 * A quick race between two backends, for software adapters (lavapipe, SwiftShader) where WebGPU is
 * emulated on the CPU and may well be slower than the CPU backend itself. It times what dominates a
 * forward pass, a matmul followed by its readback, through the Backend interface, so it measures
 * whichever CPU backend the engine really uses. The first run is not timed: it compiles the kernel.
 */
import type { Backend } from '../backend';

export interface RaceShape {
  readonly rows: number;
  readonly inDim: number;
  readonly outDim: number;
}

/** About 17 MFLOP: tens of milliseconds on a CPU, enough to rank the two backends. */
export const RACE_SHAPE: RaceShape = { rows: 64, inDim: 256, outDim: 512 };

/** Median milliseconds of `runs` timed linear + read calls (after one untimed warm-up). */
export async function timeLinear(backend: Backend, shape: RaceShape = RACE_SHAPE, runs = 3): Promise<number> {
  const { rows, inDim, outDim } = shape;
  const x = backend.fromFloat32(pattern(rows * inDim, 1), [rows, inDim]);
  const weight = backend.upload({ dtype: 'F32', shape: [outDim, inDim], data: pattern(outDim * inDim, 2) });
  const times: number[] = [];
  try {
    for (let run = 0; run <= runs; run++) {
      const started = performance.now();
      const out = backend.linear(x, weight);
      await backend.read([out]);
      backend.release([out]);
      if (run > 0) times.push(performance.now() - started);
    }
  } finally {
    backend.release([x, weight]);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Deterministic values in [-1, 1): the race must not depend on a random draw. */
function pattern(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}
