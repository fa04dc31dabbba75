/**
 * An op that fails mid-run (a device out of memory, the kernels' 4 GiB limit, a lost GPU) leaves
 * nothing behind: for each architecture, the run fails at every op call in turn — every linear,
 * attention, norm, split, gather, fromFloat32, value norm and read (packed rows too) — and afterwards
 * the backend holds exactly what it held after a finished run (its weights). A leaked intermediate
 * would stay in the kernels' memory until the engine restarts, and a shorter retry would have less room.
 */
import * as assert from 'assert';
import type { Backend } from '../../src/engine/backend';
import { createCpuBackend } from '../../src/engine/cpu/createCpuBackend';
import { type InspectInput, inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { ForwardWants } from '../../src/engine/model';
import { sharedPath } from '../helpers/shared';

/** Every Backend method that makes tensors or reads them. */
const OPS = ['fromFloat32', 'gather', 'linear', 'add', 'scale', 'softCap', 'layerNorm', 'rmsNorm', 'gated', 'concatRows', 'split', 'attention', 'valueNorms', 'read', 'readPacked'] as const;

const TEXT = 'Once upon a time, there was a little girl named Lily.';
const WANTS: ForwardWants = { scores: true, valueNorms: true, hiddenStates: true, logits: true, packedProbabilities: true };

const CASES: { model: string; input: InspectInput; wants?: ForwardWants }[] = [
  { model: 'gpt2-tiny-random', input: { text: TEXT } },
  { model: 'qwen3-tiny-random', input: { text: TEXT }, wants: { ...WANTS, trace: { stack: 'self', layer: 1 }, logitLens: { top: 3 } } },
  { model: 'gemma2-tiny-random', input: { text: TEXT } },
  { model: 'gptneox-tiny-random', input: { text: TEXT } },
  { model: 'llama-stories260K', input: { text: TEXT, generate: 2 } },
  { model: 'bert-tiny-random', input: { text: TEXT } },
  { model: 't5-tiny-random', input: { text: TEXT, targetText: 'Es war einmal' }, wants: { ...WANTS, trace: { stack: 'cross', layer: 0 } } },
  { model: 'bart-tiny-random', input: { text: TEXT, targetText: 'Once upon a time' } },
  { model: 't5-tiny-random', input: { text: TEXT, generate: 2 } },
  { model: 'demo', input: { text: 'the cat sat on the mat', targetText: 'le chat' } },
  { model: 'demo-causal', input: { text: 'the cat sat on the mat' } },
];

/** Makes op call number `failAt` (counting from 1, over every op in OPS) throw; returns the count of calls so far. */
function failing(backend: Backend, failAt: number): { calls: () => number; restore: () => void } {
  let calls = 0;
  const originals = OPS.map((op) => [op, backend[op]] as const);
  for (const [op, original] of originals) {
    (backend as unknown as Record<string, unknown>)[op] = function (this: Backend, ...args: unknown[]) {
      if (++calls === failAt) throw new Error(`${op} failed (call ${calls})`);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return { calls: () => calls, restore: () => originals.forEach(([op, original]) => ((backend as unknown as Record<string, unknown>)[op] = original)) };
}

describe('an op that fails mid-run leaves nothing on the backend', function () {
  this.timeout(300000);
  for (const c of CASES) {
    const what = `${c.model}${c.input.generate ? ', generating' : c.input.targetText ? ', teacher-forced' : ''}`;
    it(`${what}: a failure at each op call in turn`, async () => {
      const backend = createCpuBackend();
      try {
        const loaded = loadModel(c.model.startsWith('demo') ? c.model : sharedPath('models', c.model));
        const wants = c.wants ?? WANTS;
        // Counted on a second run: the first also makes what a backend keeps (value norms' factors, RoPE tables).
        await inspect(loaded, backend, c.input, wants, { onEvent: () => undefined });
        const counting = failing(backend, 0);
        await inspect(loaded, backend, c.input, wants, { onEvent: () => undefined });
        counting.restore();
        const total = counting.calls();
        const settled = backend.liveTensors();
        assert.ok(total > 10, `${total} op calls`);
        for (let failAt = 1; failAt <= total; failAt++) {
          const f = failing(backend, failAt);
          await assert.rejects(inspect(loaded, backend, c.input, wants, { onEvent: () => undefined }), /failed \(call/);
          f.restore();
          assert.deepStrictEqual(backend.liveTensors(), settled, `after a failure at op call ${failAt} of ${total}`);
        }
      } finally {
        backend.dispose();
      }
    });
  }
});
