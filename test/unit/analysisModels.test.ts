/**
 * The analysis of real runs: an encoder (BERT), a decoder (Llama) and encoder-decoders (T5, BART), with
 * probabilities in float32 and float16. Head roles equal the definitions head by head, the rollout equals
 * the chain computed here, flows are shares that add up, and float16 stays close to float32.
 */
import * as assert from 'assert';
import * as spec from '../../src/engine/analysis/headRoleSpec';
import { RunAnalysis } from '../../src/engine/analysis/runAnalysis';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent } from '../../src/engine/model';
import type { AttentionStack } from '../../src/protocol/run';
import { sharedPath } from '../helpers/shared';
import { assertNumbersClose, naiveEncoderDecoderRollout, naiveMix, naiveRollout } from './analysisTestData';

const backend = new ReferenceBackend();
const TEXT = 'Once upon a time, there was a little girl named Lily. Lily loved to play with her ball, and the ball was red.';

const RUNS: { model: string; target?: string; stacks: AttentionStack[] }[] = [
  { model: 'bert-tiny-random', stacks: ['self'] },
  { model: 'llama-stories260K', stacks: ['self'] },
  { model: 't5-tiny-random', target: 'The girl and the ball: the ball was red.', stacks: ['encoder', 'decoder', 'cross'] },
  { model: 'bart-tiny-random', target: 'The girl and the ball: the ball was red.', stacks: ['encoder', 'decoder', 'cross'] },
];

async function analyzed(name: string, format: 'f32' | 'f16', target?: string) {
  const loaded = loadModel(sharedPath('models', name));
  const events: AttentionEvent[] = [];
  let analysis: RunAnalysis | undefined;
  await inspect(loaded, backend, { text: TEXT, targetText: target }, { probabilityFormat: format }, {
    onStart: ({ source, target: decoder }) => void (analysis = new RunAnalysis(loaded.model.info, source.ids, decoder?.ids)),
    onEvent: (event) => {
      if (event.type !== 'attention') return;
      events.push(event);
      analysis!.add(event);
    },
  });
  return { analysis: analysis!, events };
}

describe('analysis: real encoder, decoder and encoder-decoder runs', () => {
  for (const run of RUNS) {
    for (const format of ['f32', 'f16'] as const) {
      it(`${run.model} (${format}): head roles equal the definitions, head by head`, async () => {
        const { analysis, events } = await analyzed(run.model, format, run.target);
        const stacks = analysis.headRoles();
        assert.deepStrictEqual(stacks.map((s) => s.kind), run.stacks);
        for (const event of events) {
          const stack = stacks.find((s) => s.kind === event.stack)!;
          const roles = stack.layers[event.layer];
          for (let h = 0; h < event.numHeads; h++) {
            const A = spec.headOf(event, h);
            const what = `${event.stack} L${event.layer}H${h}`;
            assertNumbersClose(
              [roles.previousToken[h], roles.firstToken[h], roles.sinkShare[h], roles.entropy[h], roles.entropyNormalised[h], roles.meanDistance[h], roles.duplicateToken[h]],
              [spec.previousTokenScore(A, stack.layout), spec.firstTokenScore(A), spec.sinkOf(A).share, spec.entropyScore(A), spec.normalisedEntropyScore(A, stack.layout), spec.meanDistanceScore(A, stack.layout), spec.duplicateTokenScore(A, stack.layout)],
              what,
            );
            assert.strictEqual(roles.sinkPosition[h], spec.sinkOf(A).position, `${what} sink`);
          }
        }
        // The text repeats "Lily", "ball" and "the": duplicate-token is defined on self-attention.
        for (const stack of stacks) assert.strictEqual(stack.notDefined.duplicate_token === undefined, stack.kind !== 'cross', stack.kind);
      });
    }

    it(`${run.model}: the rollout equals the chain computed here; flows are shares of 1`, async () => {
      const { analysis, events } = await analyzed(run.model, 'f32', run.target);
      const mixes = (kind: AttentionStack) => events.filter((e) => e.stack === kind).sort((a, b) => a.layer - b.layer).map((e) => naiveMix(e, kind !== 'cross'));
      const rollout = analysis.rollout();
      if (run.stacks.includes('self')) {
        assertNumbersClose(rollout.self!.data, naiveRollout(mixes('self')).data, 'self rollout');
      } else {
        const expected = naiveEncoderDecoderRollout(mixes('encoder'), mixes('decoder'), mixes('cross'));
        for (const kind of ['encoder', 'decoder', 'cross'] as const) assertNumbersClose(rollout[kind]!.data, expected[kind].data, `${kind} rollout`);
      }
      const top = analysis.topStack;
      for (const target of [0, top.length - 1]) {
        const flow = analysis.flowInto(target);
        const all = Object.values(flow.share).flatMap((v) => Array.from(v));
        assertNumbersClose([all.reduce((a, b) => a + b, 0)], [1], `flow shares into ${target}`);
        for (const values of Object.values(flow.maxFlow)) for (const v of values) assert.ok(v >= 0 && v <= 1 + 1e-9, `max-flow ${v}`);
        // Under a causal mask nothing flows backwards from a later token.
        const causalInputs = flow.maxFlow.decoder ?? (run.model.startsWith('llama') ? flow.maxFlow.self : undefined);
        causalInputs?.slice(target + 1).forEach((v, k) => assert.strictEqual(v, 0, `token ${target + 1 + k} flows into ${target}`));
      }
    });

    it(`${run.model}: float16 probabilities give the float32 scores to float16 precision`, async () => {
      const [f32, f16] = await Promise.all([analyzed(run.model, 'f32', run.target), analyzed(run.model, 'f16', run.target)]);
      const [a, b] = [f32.analysis.headRoles(), f16.analysis.headRoles()];
      a.forEach((stack, s) => stack.layers.forEach((roles, l) => {
        for (const field of ['previousToken', 'firstToken', 'entropy', 'entropyNormalised', 'meanDistance', 'duplicateToken'] as const) {
          assertNumbersClose(b[s].layers[l][field], roles[field], `${stack.kind} L${l} ${field}`, 2e-3, 2e-3);
        }
      }));
      const [ra, rb] = [f32.analysis.rollout(), f16.analysis.rollout()];
      for (const [kind, m] of Object.entries(ra)) assertNumbersClose(rb[kind as AttentionStack]!.data, m.data, `${kind} rollout`, 2e-3);
    });
  }
});
