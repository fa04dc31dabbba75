/**
 * Greedy generation with a key/value cache, recording every step's attention. Step 0 runs the prompt
 * (decoder-only) or the encoder plus the decoder start token (encoder-decoder); each later step feeds
 * one token, so its attention rows are [heads, 1, tokens so far] — what a user steps through to see
 * what each generated token looked at.
 */
import type { Backend } from './backend';
import { EngineError } from './errors';
import type { ForwardEvent, ForwardWants, TransformerModel } from './model';
import { KvCache } from './kvCache';
import { throwIfAborted } from './models/common';

/** The token chosen at `step`, streamed after that step's attention. */
export interface TokenEvent {
  readonly type: 'token';
  readonly step: number;
  readonly id: number;
}

export interface GenerateRequest {
  /** The prompt (decoder-only) or the source (encoder-decoder). */
  readonly ids: readonly number[];
  readonly maxNewTokens: number;
  readonly wants: ForwardWants;
  readonly signal?: AbortSignal;
  /** Rotary models: keep generating past max_position_embeddings. */
  readonly pastContext?: boolean;
}

export const MAX_NEW_TOKENS = 512;

function argmaxLastRow(data: Float32Array, rows: number, cols: number): number {
  let best = 0;
  const base = (rows - 1) * cols;
  for (let j = 1; j < cols; j++) if (data[base + j] > data[base + best]) best = j;
  return best;
}

export async function* generate(model: TransformerModel, backend: Backend, request: GenerateRequest): AsyncGenerator<ForwardEvent | TokenEvent> {
  const { info } = model;
  if (info.untrained) throw new EngineError('BAD_INPUT', `${info.name} has no language-model head, so it cannot generate; use a real model.`);
  if (info.kind === 'encoder-only') throw new EngineError('BAD_INPUT', `${info.name} is an encoder (${info.modelType}); only decoder and encoder-decoder models generate.`);
  if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1 || request.maxNewTokens > MAX_NEW_TOKENS) {
    throw new EngineError('BAD_INPUT', `The number of tokens to generate must be between 1 and ${MAX_NEW_TOKENS}.`);
  }
  const seq2seq = info.kind === 'encoder-decoder';
  const cache = new KvCache(backend);
  try {
    let next: readonly number[] = seq2seq ? [info.decoderStartTokenId ?? 0] : request.ids;
    for (let step = 0; step < request.maxNewTokens; step++) {
      throwIfAborted(request.signal);
      // Decoder-only: the prompt, then one token at a time. Encoder-decoder: the source (encoded once,
      // at step 0, then served from the cache) and the decoder's next token.
      const stream = model.forward(backend, {
        ids: seq2seq ? request.ids : next, decoderIds: seq2seq ? next : undefined,
        wants: { ...request.wants, logits: true }, signal: request.signal, cache, step, pastContext: request.pastContext,
      });
      let chosen = -1;
      for await (const event of stream) {
        if (event.type === 'logits') chosen = argmaxLastRow(event.data, event.rows, event.cols);
        if (event.type !== 'logits' || request.wants.logits) yield event;
      }
      yield { type: 'token', step, id: chosen };
      if (info.eosTokenIds.includes(chosen)) return;
      next = [chosen];
    }
  } finally {
    cache.release();
  }
}
