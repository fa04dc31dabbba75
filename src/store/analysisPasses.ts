/**
 * The analysis that needs the engine to run again, for runs made through the engine client (the host's
 * runs, the CLI's reports): the induction recipe (prefix + R + R with N seeded random tokens) and the
 * logit lens of the run's own input. Each failure becomes the reason the view shows.
 */
import { isEngineError } from '../engine/errors';
import type { LensEvent } from '../engine/model';
import type { EngineClient, InspectRequest, InspectResult } from '../engine/worker/engineClient';
import type { LogitLens, LogitLensReply } from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import type { ModelInfo } from '../protocol/run';
import type { Layer } from '../view-model/generation';
import type { ExtraPasses, InductionPass } from './analysisStore';
import { layerMessage } from './runMessages';

/** The recipe's N (TransformerLens's default), shortened to fit a model with fewer positions. */
export const INDUCTION_N = 50;
export const INDUCTION_SEED = 0;
/** Tokens per position the logit lens keeps. */
export const LENS_TOP = 5;

type Engine = Pick<EngineClient, 'inspect'>;
/** What the passes run on: the run's model, backend and memory budget. */
export type PassBase = Pick<InspectRequest, 'model' | 'backend' | 'memoryBudgetMB'>;

/**
 * What the panel shows of a run, as engine input (ids, teacher-forced target): what a pass over it runs
 * on, allowed past the model's trained context when the run was.
 */
export function shownInput(request: InspectRequest, result: InspectResult, stepsShown: number): InspectRequest['input'] {
  const pastContext = request.input.pastContext;
  const generated = result.generated?.ids ?? [];
  if (!result.generated) return { ids: result.source.ids, targetIds: result.labels ?? result.target?.ids, pastContext };
  // Step k feeds back the token of step k − 1; an encoder-decoder's labels are those tokens.
  return result.model.kind === 'encoder-decoder'
    ? { ids: result.source.ids, targetIds: generated.slice(0, stepsShown), pastContext }
    : { ids: [...result.source.ids, ...generated.slice(0, stepsShown - 1)], pastContext };
}

const reason = (err: unknown) => (isEngineError(err) || err instanceof Error ? err.message : String(err));

/** `lensInput`: the input whose logit lens is shown (a generation's prompt and the tokens shown so far). */
export function enginePasses(engine: () => Engine, base: PassBase, model: ModelInfo, lensInput: () => InspectRequest['input']): ExtraPasses {
  return {
    induction: () => inductionPass(engine(), base, model),
    logitLens: () => lensPass(engine(), base, model, lensInput()),
  };
}

async function inductionPass(engine: Engine, base: PassBase, model: ModelInfo): Promise<InductionPass | string> {
  // One position for the tokenizer's prefix or the decoder's start token.
  const n = Math.min(INDUCTION_N, Math.floor((model.maxPositions - 1) / 2));
  if (n < 1) return `${model.name} takes ${model.maxPositions} positions: too few for the induction recipe (2·N random tokens and a prefix).`;
  if (model.modelType === 'demo') return 'The demo model builds its vocabulary from the text you inspect, so it has no random tokens for the induction recipe.';
  const layers: Partial<Record<AttentionStack, Layer[]>> = {};
  let prefix = 0;
  try {
    await engine.inspect({ ...base, input: { inductionRecipe: { n, seed: INDUCTION_SEED } }, wants: { valueNorms: true } }, {
      onStart: (started) => void (prefix = started.source.ids.length - 2 * n),
      onEvent: (event) => {
        if (event.type !== 'attention' || event.stack === 'cross') return;
        (layers[event.stack] ??= [])[event.layer] = { ...layerMessage(0, event, model), probs: event.probs, ...(event.valueNorms && { valueNorms: event.valueNorms }) };
      },
    });
  } catch (err) {
    return `The induction recipe's run failed: ${reason(err)}`;
  }
  return { n, seed: INDUCTION_SEED, prefix: { self: prefix, encoder: prefix, decoder: 1 }, layers };
}

async function lensPass(engine: Engine, base: PassBase, model: ModelInfo, input: InspectRequest['input']): Promise<LogitLensReply> {
  const lenses: LensEvent[] = [];
  try {
    await engine.inspect({ ...base, input, wants: { logitLens: { top: LENS_TOP } } }, { onEvent: (event) => void (event.type === 'lens' && lenses.push(event)) });
  } catch (err) {
    return { kind: 'logit-lens', unavailable: reason(err) };
  }
  return lensReply(lenses, model);
}

/** The logit lens a run's lens events make (a run that asked for it along with its attention, or a pass). */
export function lensReply(lenses: readonly LensEvent[], model: ModelInfo): LogitLensReply {
  if (!lenses.length) return { kind: 'logit-lens', unavailable: `${model.name} gave no logit lens.` };
  return { kind: 'logit-lens', lens: assembleLens(lenses, model.kind === 'encoder-decoder' ? 'decoder' : 'self') };
}

/** The lens events of one run (embeddings first) as one grid, with the token string of every id in it. */
export function assembleLens(events: readonly LensEvent[], stack: AttentionStack): LogitLens {
  const ordered = [...events].sort((a, b) => a.index - b.index);
  const { rows: positions, top } = ordered[0];
  const ids = new Int32Array(ordered.length * positions * top);
  const probs = new Float32Array(ids.length);
  const names = new Map<number, string>();
  ordered.forEach((event, layer) => {
    ids.set(event.ids, layer * positions * top);
    probs.set(event.probs, layer * positions * top);
    event.ids.forEach((id, i) => id >= 0 && names.set(id, event.tokens?.[i] ?? String(id)));
  });
  const known = [...names.keys()].sort((a, b) => a - b);
  return { stack, layers: ordered.length, positions, top, ids, probs, vocabulary: { ids: Int32Array.from(known), tokens: known.map((id) => names.get(id)!) } };
}
