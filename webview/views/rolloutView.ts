/**
 * The rollout view: attention rollout (Abnar & Zuidema 2020) as a token-to-token matrix, drawn by the
 * matrix view: row i is how much of position i's top-layer state came from each input token, through
 * every layer's attention and residual. For an encoder-decoder, the decoder's rollout over its own
 * tokens, the cross one over the source tokens, or the encoder's.
 */
import type { ViewData } from '../../src/view-model/viewData';
import { MatrixView } from './matrixView';
import type { ViewContext } from './view';

function rolloutData(ctx: ViewContext): ViewData | string | undefined {
  const found = ctx.data.rollout(ctx.run, ctx.selection, ctx.selection.stack);
  if (found !== undefined || ctx.run.state === 'idle') return found;
  if (ctx.run.state === 'running') return `Rollout goes through every layer: ${ctx.run.layersReceived} of them so far…`;
  return ctx.run.failure ? 'The run stopped before its last layer: rollout needs them all.' : 'Computing the rollout…';
}

export function rolloutView(): MatrixView {
  return new MatrixView({ data: rolloutData, title: (_ctx, data) => data.headLabel });
}
