/**
 * One inspection: tokenize the input (and target), run the model on a backend, and hand every streamed
 * event to the caller as it arrives. Shared by the CLI, the engine worker and the tests.
 */
import type { Backend } from './backend';
import { EngineError } from './errors';
import { generate } from './generate';
import type { LoadedModel } from './loadModel';
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
}

export interface InspectionSummary {
  readonly source: TokenizedText;
  /** The decoder's input tokens: what the rows of decoder and cross attention are. */
  readonly target?: TokenizedText;
  /** Encoder-decoder teacher forcing: the target's ids, which the decoder input is shifted from. */
  readonly labels?: readonly number[];
  /** The tokens generation produced, in order. */
  readonly generated?: { ids: number[]; tokens: string[] };
  readonly timings: Timings;
}

/**
 * Teacher forcing as transformers does it: the decoder reads [decoder_start] + labels[:-1] and its
 * output at position t predicts labels[t]. The demo has no start token and reads the target as is.
 */
export function decoderInput(labels: TokenizedText, startId: number | undefined, startToken: string): TokenizedText {
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
  return { ids: enc.ids, tokens: enc.tokens, offsetsUtf16: enc.offsetsUtf16, special: enc.special };
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
  handlers: InspectHandlers, signal?: AbortSignal,
): Promise<InspectionSummary> {
  const clock = new RunClock();
  const source = await tokenize(loaded, input.text, input.ids, 'input');
  const hasTarget = input.targetText !== undefined || input.targetIds !== undefined;
  if (input.generate !== undefined) {
    if (hasTarget) throw new EngineError('BAD_INPUT', 'Give either a target or a number of tokens to generate, not both.');
    return inspectGenerating(loaded, backend, source, input.generate, wants, handlers, clock, signal);
  }
  if (hasTarget && !loaded.model.info.crossAttention) {
    throw new EngineError('BAD_INPUT', `${loaded.model.info.name} is a ${loaded.model.info.kind} model without cross-attention; a target applies only to encoder-decoder models and the demo.`);
  }
  const labels = hasTarget ? await tokenize(loaded, input.targetText, input.targetIds, 'target') : undefined;
  const { decoderStartTokenId } = loaded.model.info;
  const startToken = decoderStartTokenId === undefined ? '' : loaded.tokenizer?.idToToken(decoderStartTokenId) ?? String(decoderStartTokenId);
  const target = labels && decoderInput(labels, decoderStartTokenId, startToken);
  handlers.onStart?.({ source, target });
  clock.tokenizeDone();
  const stream = loaded.model.forward(backend, { ids: source.ids, decoderIds: target?.ids, wants, signal });
  for await (const event of stream) {
    clock.observe(event);
    await handlers.onEvent(event);
  }
  return { source, target, labels: decoderStartTokenId === undefined ? undefined : labels?.ids, timings: clock.timings() };
}

async function inspectGenerating(
  loaded: LoadedModel, backend: Backend, source: TokenizedText, count: number, wants: ForwardWants,
  handlers: InspectHandlers, clock: RunClock, signal?: AbortSignal,
): Promise<InspectionSummary> {
  handlers.onStart?.({ source });
  clock.tokenizeDone();
  const generated = { ids: [] as number[], tokens: [] as string[] };
  for await (const event of generate(loaded.model, backend, { ids: source.ids, maxNewTokens: count, wants, signal })) {
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
  return { source, generated, timings: clock.timings() };
}
