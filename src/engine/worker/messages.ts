/**
 * The typed messages between the engine worker and its client (the extension host, tests, the CLI).
 * Typed arrays travel as transferred buffers, never as JSON number lists.
 */
import type { BackendChoice } from '../backends';
import type { EngineErrorCode } from '../errors';
import type { InspectInput, Timings, TokenizedText } from '../inspect';
import type { ForwardEvent, ForwardWants, ModelInfo } from '../model';

export interface InspectRequest {
  /** A model folder, or "demo" / "demo-causal". */
  readonly model: string;
  readonly backend: BackendChoice;
  readonly input: InspectInput;
  readonly wants: ForwardWants;
}

export interface BackendReport {
  readonly used: 'cpu' | 'webgpu';
  readonly adapter: string;
  readonly fallbackReason: string | null;
}

export interface InspectStarted {
  readonly model: ModelInfo;
  readonly source: TokenizedText;
  readonly target?: TokenizedText;
  readonly backend: BackendReport;
}

export interface InspectResult extends InspectStarted {
  readonly timings: Timings;
  /** Encoder-decoder teacher forcing: the target ids the decoder input was shifted from. */
  readonly labels?: number[];
  /** Generation: the chosen tokens in order. */
  readonly generated?: { ids: number[]; tokens: string[] };
}

export interface GeneratedTokenMessage {
  readonly step: number;
  readonly id: number;
  readonly text: string;
}

export interface SerializedError {
  readonly name: string;
  readonly code: EngineErrorCode | 'INTERNAL';
  readonly message: string;
}

export type ToWorker =
  | { readonly type: 'inspect'; readonly runId: number; readonly request: InspectRequest }
  | { readonly type: 'cancel'; readonly runId: number }
  | { readonly type: 'shutdown' };

export type FromWorker =
  | { readonly type: 'started'; readonly runId: number; readonly started: InspectStarted }
  | { readonly type: 'event'; readonly runId: number; readonly event: ForwardEvent }
  | { readonly type: 'token'; readonly runId: number; readonly token: GeneratedTokenMessage }
  | { readonly type: 'done'; readonly runId: number; readonly result: InspectResult }
  | { readonly type: 'failed'; readonly runId: number; readonly error: SerializedError }
  | { readonly type: 'closed' };

/** The buffers of an event's arrays, to transfer rather than copy. */
export function eventBuffers(event: ForwardEvent): ArrayBuffer[] {
  const arrays = event.type === 'attention'
    ? [event.probs, event.probsF16, event.scores, event.q, event.k, event.v, event.headOutputs]
    : [event.data];
  return arrays.filter((a): a is Float32Array | Uint16Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}
