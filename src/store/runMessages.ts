/**
 * The engine's results as panel messages: the host streams these to the webview, and the CLI embeds
 * them in the standalone report. Engine types stay on this side; the protocol knows only its own.
 */
import type { EngineErrorCode } from '../engine/errors';
import type { Timings, TokenizedText } from '../engine/inspect';
import type { AttentionEvent, ModelInfo } from '../engine/model';
import type { GeneratedToken, LayerMessage, PanelBackend, PanelTokens, RunFailed, RunFinished, RunMessage, RunStarted } from '../protocol/messages';

export interface StartedRun {
  readonly model: ModelInfo;
  readonly source: TokenizedText;
  readonly target?: TokenizedText;
  readonly backend: PanelBackend;
}

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

export function startedMessage(runId: number, run: StartedRun, texts: { source?: string; target?: string }, generation?: GenerationStart): RunStarted {
  const m = run.model;
  const target = run.target ?? (generation && m.kind === 'encoder-decoder' ? decoderStart(m, generation.decoderStartToken) : undefined);
  return {
    type: 'run-started', runId,
    model: {
      name: m.name, modelType: m.modelType, kind: m.kind, numLayers: m.numLayers, numHeads: m.numHeads, numKvHeads: m.numKvHeads,
      headDim: m.headDim, hiddenSize: m.hiddenSize, causal: m.causal, untrained: m.untrained,
    },
    source: panelTokens(run.source, texts.source),
    target: target && panelTokens(target, run.target ? texts.target : undefined),
    backend: { used: run.backend.used, adapter: run.backend.adapter, fallbackReason: run.backend.fallbackReason },
    ...(generation && { generation: { maxNewTokens: generation.maxNewTokens } }),
  };
}

export function layerMessage(runId: number, event: AttentionEvent, model: ModelInfo): LayerMessage {
  return {
    type: 'layer', runId, stack: event.kind, layer: event.layer, ...(event.step !== undefined && { step: event.step }),
    numHeads: event.numHeads, numKvHeads: event.numKvHeads, headDim: event.headDim,
    queryLength: event.queryLength, keyLength: event.keyLength,
    causal: event.kind === 'decoder' || (event.kind === 'self' && model.causal),
    probs: event.probs, scores: event.scores, q: event.q, k: event.k, v: event.v, headOutputs: event.headOutputs,
  };
}

export function generatedTokenMessage(runId: number, token: { step: number; id: number; text: string }): GeneratedToken {
  return { type: 'generated-token', runId, step: token.step, id: token.id, text: token.text };
}

export function finishedMessage(runId: number, timings: Timings): RunFinished {
  return { type: 'run-finished', runId, timings: { tokenizeMs: timings.tokenizeMs, firstLayerMs: timings.firstLayerMs, forwardMs: timings.forwardMs } };
}

export function failedMessage(runId: number, err: unknown): RunFailed {
  const engine = err as { name?: string; code?: EngineErrorCode; message?: string };
  if (engine?.name === 'EngineError' && engine.code) return { type: 'run-failed', runId, code: engine.code, message: engine.message ?? '' };
  return { type: 'run-failed', runId, code: 'INTERNAL', message: `Internal error: ${err instanceof Error ? err.message : String(err)}. Please report it with the model and the selected text.` };
}

/**
 * A finished run as the message sequence a panel would have received (the report replays it). A
 * generation's steps come in order, each step's layers followed by its token.
 */
export function completedRunMessages(
  run: StartedRun, events: readonly AttentionEvent[], timings: Timings, texts: { source?: string; target?: string },
  generation?: GenerationStart & { readonly tokens: readonly { step: number; id: number; text: string }[] },
): RunMessage[] {
  const runId = 1;
  const out: RunMessage[] = [startedMessage(runId, run, texts, generation)];
  const tokens = generation?.tokens ?? [];
  for (let step = 0; step <= tokens.length; step++) {
    const stepEvents = events.filter((e) => (e.step ?? 0) === step);
    out.push(...stepEvents.map((e) => layerMessage(runId, e, run.model)));
    if (tokens[step]) out.push(generatedTokenMessage(runId, tokens[step]));
  }
  out.push(finishedMessage(runId, timings));
  return out;
}
