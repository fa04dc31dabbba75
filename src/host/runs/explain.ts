/**
 * The step-by-step view's exact numbers, on demand: a run keeps only its attention weights, so for the
 * one layer the view shows, the engine runs the same input again and traces that layer — every stage
 * it computes, from q, k, v through its norms, RoPE, scale, soft-cap, mask and softmax to P·V — and
 * stops there. For a generation, the input is the prompt and the
 * tokens generated so far, which gives exactly the rows the panel stacks from the steps.
 */
import { isEngineError } from '../../engine/errors';
import type { EngineClient, InspectRequest, InspectResult } from '../../engine/worker/engineClient';
import type { AttentionStack } from '../../protocol/run';
import { shownInput } from '../../store/analysisPasses';
import { layerMessage } from '../../store/runMessages';
import { stepRecipe, type StepLayer } from '../../view-model/computation';
import type { StepData } from '../../view-model/dataService';
import { errorText } from '../errorText';
import type { RunSession } from './runSession';

export function explainer(engine: () => Pick<EngineClient, 'inspect'>, request: InspectRequest, result: InspectResult, session: RunSession): StepData {
  let last: { key: string; layer: StepLayer } | undefined;
  return async (stack: AttentionStack, layer: number) => {
    const run = session.run;
    const input = shownInput(request, result, run.stepsShown);
    const key = `${run.id}|${stack}|${layer}|${run.stepsShown}`;
    if (last?.key === key) return last.layer;
    const controller = new AbortController();
    let found: StepLayer | undefined;
    try {
      await engine().inspect({ ...request, input, wants: { trace: { stack, layer } } }, {
        onEvent: (event) => {
          if (event.type !== 'trace' || event.stack !== stack || event.layer !== layer || found) return;
          const stages = Object.fromEntries(event.stages.map((s) => [s.name, s.data])) as StepLayer['stages'];
          if (!stages.probs) return;
          found = { ...layerMessage(run.id, event, result.model), probs: stages.probs, recipe: stepRecipe(event.recipe), stages };
          controller.abort(); // the later layers are not needed
        },
      }, controller.signal);
    } catch (err) {
      if (!found) return isEngineError(err) && err.code === 'CANCELLED' ? 'The run was cancelled.' : errorText(err);
    }
    if (!found) return `The engine did not produce ${stack} layer ${layer}.`;
    last = { key, layer: found };
    return found;
  };
}
