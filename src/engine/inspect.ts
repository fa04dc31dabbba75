/**
 * One inspection: tokenize the input (and target), run the model on a backend, and hand every streamed
 * event to the caller as it arrives. Shared by the CLI, the engine worker and the tests.
 */
import type { Backend } from './backend';
import { inductionInput } from './ordinaryTokens';
import { EngineError } from './errors';
import { checkFinite } from './finiteCheck';
import { generate } from './generate';
import type { LoadedModel } from './loadModel';
import { checkRunMemory, estimateRunMemory, memoryBudget } from './memory';
import type { ForwardEvent, ForwardWants } from './model';
import type { GeneratedToken, Timings, TokenizedText } from '../protocol/run';

export interface InspectInput {
  readonly text?: string;
  readonly ids?: readonly number[];
  /** Encoder-decoder and demo: the target as text or as label ids. */
  readonly targetText?: string;
  readonly targetIds?: readonly number[];
  /** Greedy-generate this many tokens after the input (decoder-only) or as the target (encoder-decoder). */
  readonly generate?: number;
  /** Rotary models: run a text longer than max_position_embeddings (outside the trained context) instead of refusing it. */
  readonly pastContext?: boolean;
  /**
   * Instead of a text: the induction recipe's input, BOS + R + R with R `n` seeded random ordinary
   * tokens (ordinaryTokens.ts inductionInput), and for an encoder-decoder R + R as the target.
   */
  readonly inductionRecipe?: { readonly n: number; readonly seed: number };
}

export interface InspectionSummary {
  readonly source: TokenizedText;
  /** The decoder's input tokens: what the rows of decoder and cross attention are. */
  readonly target?: TokenizedText;
  /** Encoder-decoder teacher forcing: the target's ids, which the decoder input is shifted from. */
  readonly labels?: readonly number[];
  /** The tokens generation produced, in order, their text, and (encoder-decoder) the decoder's start token. */
  readonly generated?: { ids: number[]; tokens: string[]; text?: string; startToken?: string };
  readonly timings: Timings;
}

/**
 * Teacher forcing as transformers does it: the decoder reads [decoder_start] + labels[:-1] and its
 * output at position t predicts labels[t]. The demo has no start token and reads the target as is.
 */
function decoderInput(labels: TokenizedText, startId: number | undefined, startToken: string): TokenizedText {
  if (startId === undefined) return labels;
  const keep = labels.ids.length - 1;
  return {
    ids: [startId, ...labels.ids.slice(0, keep)],
    tokens: [startToken, ...labels.tokens.slice(0, keep)],
    offsetsUtf16: [null, ...labels.offsetsUtf16.slice(0, keep)],
    special: [true, ...labels.special.slice(0, keep)],
  };
}

async function tokenize(loaded: LoadedModel, text: string | undefined, ids: readonly number[] | undefined, what: string): Promise<TokenizedText> {
  if (ids) {
    const tokens = ids.map((id) => loaded.tokenizer?.idToToken(id) ?? String(id));
    return { ids: [...ids], tokens, offsetsUtf16: ids.map(() => null), special: ids.map(() => false) };
  }
  if (text === undefined) throw new EngineError('BAD_INPUT', `Give the ${what} as text or as ids.`);
  if (!loaded.tokenizer) {
    throw new EngineError('BAD_TOKENIZER', `${loaded.model.info.name} has no tokenizer.json, so it cannot read text.`, { remedies: ['pass-ids', 'choose-model'] });
  }
  const enc = await loaded.tokenizer.encode(text);
  // An id past the embeddings is the tokenizer's fault (a vocabulary bigger than the model's), not the input's.
  const { vocabSize, name } = loaded.model.info;
  const outside = enc.ids.findIndex((id) => id >= vocabSize);
  if (outside >= 0) {
    const file = loaded.tokenizer.file;
    throw new EngineError('BAD_TOKENIZER', `${file ?? 'The tokenizer'} gives the token "${enc.tokens[outside]}" the id ${enc.ids[outside]}, but ${name} has ${vocabSize} embeddings (config.json vocab_size): the tokenizer does not belong to this model.`, {
      remedies: ['choose-model'], details: { file, field: 'model.vocab' },
    });
  }
  return { ids: enc.ids, tokens: enc.tokens, offsetsUtf16: enc.offsetsUtf16, special: enc.special };
}

/** Limits a run is held to. */
export interface InspectLimits {
  /** The memory the run may use, in MB; absent or 0: half of the free memory. */
  readonly memoryBudgetMB?: number;
  /**
   * The caller hands every layer on and keeps none (the engine's process: its client stores them), so
   * only the layers in flight count against the budget, not every layer.
   */
  readonly streamed?: boolean;
}

/** Refuses, before any layer runs, a run whose memory estimate exceeds the budget. */
function checkMemory(loaded: LoadedModel, wants: ForwardWants, limits: InspectLimits, tokens: { source: number; target?: number; generate?: number }): void {
  const size = loaded.weightSize ?? { heldBytes: 0, largestStoredBytes: 0 };
  const estimate = estimateRunMemory(loaded.model.info, size, { sourceTokens: tokens.source, targetTokens: tokens.target, generate: tokens.generate, wants, streamed: limits.streamed });
  const length = `${tokens.source} tokens${tokens.target ? ` → ${tokens.target}` : ''}${tokens.generate ? ` + ${tokens.generate} generated` : ''}`;
  checkRunMemory(estimate, memoryBudget(limits.memoryBudgetMB), `Inspecting ${length} on ${loaded.model.info.name}`);
}

/** Every event is checked for NaN before the caller sees it; the logit lens's ids get their token strings. */
function checked(loaded: LoadedModel, handlers: InspectHandlers): (event: ForwardEvent) => void | Promise<void> {
  return (event) => {
    checkFinite(event, loaded.weights, loaded.model.info.name);
    const tokenizer = loaded.tokenizer;
    if (event.type !== 'lens' || !tokenizer) return handlers.onEvent(event);
    return handlers.onEvent({ ...event, tokens: Array.from(event.ids, (id) => (id < 0 ? '' : tokenizer.idToToken(id))) });
  };
}

/** The tokens of a run, known before its first layer. */
export interface TokenizedRun {
  readonly source: TokenizedText;
  readonly target?: TokenizedText;
}

/**
 * What a streaming inspection calls back; `Started` is what the caller learns before the first
 * layer (the tokens here; the engine worker's client adds the model and the backend).
 */
export interface InspectHandlers<Started = TokenizedRun> {
  /** Called once the input is tokenized, before the first layer: a view can lay out its tokens. */
  onStart?(started: Started): void;
  onEvent(event: ForwardEvent): void | Promise<void>;
  /** Generation: each chosen token, after its step's attention. */
  onToken?(token: GeneratedToken): void | Promise<void>;
}

/** Tokenize time, time to the first attention layer, and forward time of one inspection. */
class RunClock {
  private readonly started = performance.now();
  private tokenized = 0;
  private firstLayer = 0;

  tokenizeDone(): void {
    this.tokenized = performance.now();
  }

  observe(event: ForwardEvent): void {
    if (!this.firstLayer && event.type === 'attention') this.firstLayer = performance.now();
  }

  timings(): Timings {
    const done = performance.now();
    return { tokenizeMs: this.tokenized - this.started, firstLayerMs: (this.firstLayer || done) - this.tokenized, forwardMs: done - this.tokenized };
  }
}

export async function inspect(
  loaded: LoadedModel, backend: Backend, input: InspectInput, wants: ForwardWants,
  handlers: InspectHandlers, signal?: AbortSignal, limits: InspectLimits = {},
): Promise<InspectionSummary> {
  if (input.inductionRecipe) {
    const recipe = await inductionInput(loaded, input.inductionRecipe.n, input.inductionRecipe.seed);
    return inspect(loaded, backend, { ids: recipe.ids, targetIds: recipe.labels }, wants, handlers, signal, limits);
  }
  const clock = new RunClock();
  const source = await tokenize(loaded, input.text, input.ids, 'input');
  const hasTarget = input.targetText !== undefined || input.targetIds !== undefined;
  const onEvent = checked(loaded, handlers);
  if (input.generate !== undefined) {
    if (hasTarget) throw new EngineError('BAD_INPUT', 'Give either a target or a number of tokens to generate, not both.');
    handlers.onStart?.({ source });
    const generationWants = withTraceFor(wants, source.ids.length + input.generate);
    checkMemory(loaded, generationWants, limits, { source: source.ids.length, generate: input.generate });
    return inspectGenerating(loaded, backend, source, { count: input.generate, pastContext: input.pastContext }, generationWants, { ...handlers, onEvent }, clock, signal);
  }
  if (hasTarget && !loaded.model.info.crossAttention) {
    throw new EngineError('BAD_INPUT', `${loaded.model.info.name} is a ${loaded.model.info.kind} model without cross-attention; a target applies only to encoder-decoder models and the demo.`);
  }
  const labels = hasTarget ? await tokenize(loaded, input.targetText, input.targetIds, 'target') : undefined;
  const { decoderStartTokenId } = loaded.model.info;
  const startToken = decoderStartTokenId === undefined ? '' : loaded.tokenizer?.idToToken(decoderStartTokenId) ?? String(decoderStartTokenId);
  const target = labels && decoderInput(labels, decoderStartTokenId, startToken);
  handlers.onStart?.({ source, target });
  const forwardWants = withTraceFor(wants, Math.max(source.ids.length, target?.ids.length ?? 0));
  checkMemory(loaded, forwardWants, limits, { source: source.ids.length, target: target?.ids.length });
  clock.tokenizeDone();
  const stream = loaded.model.forward(backend, { ids: source.ids, decoderIds: target?.ids, wants: forwardWants, signal, pastContext: input.pastContext });
  for await (const event of stream) {
    clock.observe(event);
    await onEvent(event);
  }
  return { source, target, labels: decoderStartTokenId === undefined ? undefined : labels?.ids, timings: clock.timings() };
}

/** Every-layer tracing applies only to inputs of at most its token count (the models trace what they are told). */
function withTraceFor(wants: ForwardWants, tokens: number): ForwardWants {
  const trace = wants.trace;
  return trace && 'everyLayer' in trace && tokens > trace.maxTokens ? { ...wants, trace: undefined } : wants;
}

async function inspectGenerating(
  loaded: LoadedModel, backend: Backend, source: TokenizedText, { count, pastContext }: { count: number; pastContext?: boolean }, wants: ForwardWants,
  handlers: InspectHandlers, clock: RunClock, signal?: AbortSignal,
): Promise<InspectionSummary> {
  clock.tokenizeDone();
  const generated = { ids: [] as number[], tokens: [] as string[] };
  for await (const event of generate(loaded.model, backend, { ids: source.ids, maxNewTokens: count, wants, signal, pastContext })) {
    if (event.type === 'token') {
      const text = loaded.tokenizer?.idToToken(event.id) ?? String(event.id);
      generated.ids.push(event.id);
      generated.tokens.push(text);
      await handlers.onToken?.({ step: event.step, id: event.id, text });
      continue;
    }
    clock.observe(event);
    await handlers.onEvent(event);
  }
  const timings = clock.timings();
  const text = generated.ids.length && loaded.tokenizer ? await loaded.tokenizer.decode(generated.ids) : undefined;
  const startId = loaded.model.info.decoderStartTokenId;
  const startToken = startId === undefined ? undefined : loaded.tokenizer?.idToToken(startId);
  return { source, generated: { ...generated, text, startToken }, timings };
}
