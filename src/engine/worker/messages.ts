/**
 * The typed messages between the engine worker and its client (the extension host, tests, the CLI).
 * Typed arrays travel as transferred buffers, never as JSON number lists.
 */
import type { BackendChoice } from '../backends';
import type { SerializedError } from '../errors';
import type { BackendReport, GeneratedToken, ModelInfo } from '../../protocol/run';
import type { InspectInput, InspectionSummary, TokenizedRun } from '../inspect';
import type { ForwardEvent, ForwardWants } from '../model';

export interface InspectRequest {
  /** A model folder, or "demo" / "demo-causal". */
  readonly model: string;
  readonly backend: BackendChoice;
  readonly input: InspectInput;
  readonly wants: ForwardWants;
  /** The memory the model and the run may take, in MB; absent or 0: half of the free memory. */
  readonly memoryBudgetMB?: number;
  /** How many models the engine keeps loaded (least recently used go first); absent: 2. */
  readonly maxLoadedModels?: number;
  /** Set by the client after WebGPU crashed an engine process (why): `auto` then runs on the CPU. */
  readonly gpuCrashed?: string;
}

/** What the client learns before the first layer: the tokens, the model and the backend. */
export interface InspectStarted extends TokenizedRun {
  readonly model: ModelInfo;
  readonly backend: BackendReport;
}

/** A finished run: how it started, plus the summary `inspect` returns. */
export interface InspectResult extends InspectStarted, Pick<InspectionSummary, 'timings' | 'labels' | 'generated'> {}


export type ToWorker =
  | { readonly type: 'inspect'; readonly runId: number; readonly request: InspectRequest }
  | { readonly type: 'cancel'; readonly runId: number }
  | { readonly type: 'shutdown' };

export type FromWorker =
  | { readonly type: 'started'; readonly runId: number; readonly started: InspectStarted }
  | { readonly type: 'event'; readonly runId: number; readonly event: ForwardEvent }
  | { readonly type: 'token'; readonly runId: number; readonly token: GeneratedToken }
  | { readonly type: 'done'; readonly runId: number; readonly result: InspectResult }
  | { readonly type: 'failed'; readonly runId: number; readonly error: SerializedError }
  | { readonly type: 'closed' };

/** The buffers of an event's arrays, to transfer rather than copy. */
export function eventBuffers(event: ForwardEvent): ArrayBuffer[] {
  // A recipe's arrays are shared by every event of its layer: they are copied, never transferred.
  const arrays = event.type === 'attention'
    ? [event.probs, event.probsF16, event.scores, event.q, event.k, event.v, event.headOutputs, event.valueNorms]
    : event.type === 'trace' ? event.stages.map((s) => s.data) : event.type === 'lens' ? [event.ids, event.probs] : [event.data];
  return arrays.filter((a): a is Float32Array | Uint16Array | Int32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}
