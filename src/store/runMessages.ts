/**
 * The engine's results as panel messages: the host streams these to the webview, and the CLI embeds
 * them in the standalone report. Engine types stay on this side; the protocol knows only its own.
 */
import { isEngineError } from '../engine/errors';
import type { AttentionLayer } from '../engine/model';
import type { InspectStarted } from '../engine/worker/messages';
import type { GeneratedToken, ModelInfo, Timings, TokenizedText } from '../protocol/run';
import type { GeneratedTokenMessage, LayerMessage, PanelTokens, RunFailed, RunFinished, RunStarted } from '../protocol/messages';
import { isCausalStack } from '../protocol/packing';

function panelTokens(tokens: TokenizedText, text: string | undefined): PanelTokens {
  return { text: text ?? null, ids: tokens.ids, tokens: tokens.tokens, offsetsUtf16: tokens.offsetsUtf16, special: tokens.special };
}

export interface GenerationStart {
  readonly maxNewTokens: number;
  /** The decoder start token's string, where a tokenizer knows it (the host has none: `<start>`). */
  readonly decoderStartToken?: string;
}

/** Encoder-decoder generation: the decoder's first token, which the steps then grow. */
function decoderStart(model: ModelInfo, label: string | undefined): TokenizedText {
  const id = model.decoderStartTokenId ?? 0;
  return { ids: [id], tokens: [label ?? '<start>'], offsetsUtf16: [null], special: [true] };
}

export function startedMessage(runId: number, run: InspectStarted, texts: { source?: string; target?: string }, generation?: GenerationStart): RunStarted {
  const m = run.model;
  const target = run.target ?? (generation && m.kind === 'encoder-decoder' ? decoderStart(m, generation.decoderStartToken) : undefined);
  return {
    type: 'run-started', runId,
    model: { ...m },
    source: panelTokens(run.source, texts.source),
    target: target && panelTokens(target, run.target ? texts.target : undefined),
    backend: { used: run.backend.used, adapter: run.backend.adapter, fallbackReason: run.backend.fallbackReason },
    ...(generation && { generation: { maxNewTokens: generation.maxNewTokens } }),
  };
}

export function layerMessage(runId: number, event: AttentionLayer, model: ModelInfo): LayerMessage {
  return {
    type: 'layer', runId, stack: event.stack, layer: event.layer, ...(event.step !== undefined && { step: event.step }),
    numHeads: event.numHeads, numKvHeads: event.numKvHeads, headDim: event.headDim,
    queryLength: event.queryLength, keyLength: event.keyLength,
    causal: isCausalStack(event.stack, model.causal),
    ...(event.recipe.slidingWindow !== undefined && { window: event.recipe.slidingWindow }),
  };
}

export function generatedTokenMessage(runId: number, token: GeneratedToken): GeneratedTokenMessage {
  return { type: 'generated-token', runId, step: token.step, id: token.id, text: token.text };
}

export function finishedMessage(runId: number, timings: Timings): RunFinished {
  return { type: 'run-finished', runId, timings: { tokenizeMs: timings.tokenizeMs, firstLayerMs: timings.firstLayerMs, forwardMs: timings.forwardMs } };
}

/** A failed run for the panel: the error's code, and its text as the surface worded it. */
export function failedMessage(runId: number, err: unknown, text: string): RunFailed {
  return { type: 'run-failed', runId, code: isEngineError(err) ? err.code : 'INTERNAL', message: text };
}
