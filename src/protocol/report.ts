/**
 * What a standalone HTML report carries, written by src/report and read by the panel's report page:
 * the run's messages as JSON (shapes and tokens, no weights), and each layer's weights in a chunk of
 * its own — float16, rows packed (src/protocol/packing.ts), raw-deflated, base64 — so the page decodes
 * only the layers a view draws, and no string ever holds the whole run.
 */
import type { SinkInfo, StepRecipe, WeightOptions } from './data';
import type { AttentionStack, ReplayMessage, RunMessage } from './messages';
import type { TraceStageName } from './run';

/** The <script type="application/json"> element that holds ReportData. */
export const REPORT_DATA_ID = 'attention-data';

export const REPORT_VERSION = 5;

/**
 * One layer message's data (one generation step of a layer, for a generation run): its weights, its
 * value norms, or (short runs) what the step-by-step view needs: the layer's traced stages and its
 * recipe. Or one result of the run's analysis, computed when the report was written.
 */
export interface ReportChunk {
  /** The run the layer belongs to. */
  readonly part: 'run' | 'baseline';
  /** layerKey() of the layer message; analysisKey() of an analysis result. */
  readonly key: string;
  readonly content: 'probs' | 'steps' | 'value-norms' | 'analysis';
  /** The id of the <script type="application/octet-stream"> element with the base64 text. */
  readonly element: string;
  /**
   * probs: float16 little-endian bits of the packed rows; steps: the float32 stages listed in `stages`,
   * one after the other; value-norms: float32 [H, Tk]; analysis: the arrays of a value packed by
   * codec.ts packTyped, whose skeleton is `skeleton`. All raw-deflated.
   */
  readonly encoding: 'f16-deflate-raw' | 'f32-deflate-raw' | 'typed-deflate-raw';
  /** steps: the engine's trace stages in the chunk, in order, with their lengths. */
  readonly stages?: readonly { readonly name: TraceStageName; readonly length: number }[];
  /** steps: how the layer computes its scores. */
  readonly recipe?: StepRecipe;
  /** analysis: the value's JSON, its typed arrays replaced by references into the chunk's bytes. */
  readonly skeleton?: string;
}

/** The analysis results a report carries, by what they are of (src/report/reportAnalysis.ts writes them). */
export function analysisKey(kind: 'scores' | 'induction' | 'rollout', stack: AttentionStack, options: WeightOptions): string;
export function analysisKey(kind: 'lens'): string;
export function analysisKey(kind: 'scores' | 'induction' | 'rollout' | 'lens', stack?: AttentionStack, options?: WeightOptions): string {
  return kind === 'lens' ? kind : `${kind}|${stack}|${+options!.valueWeighted}${+options!.hideSinks}`;
}

/** Runs up to this many keys carry step-by-step data (it is larger than the weights). */
export const REPORT_STEP_DATA_MAX_KEYS = 512;

export interface ReportData {
  readonly version: number;
  /** The run as the panel received it, and the baseline message when it is compared. */
  readonly messages: readonly ReplayMessage[];
  /** The compared run's own messages (its shapes and tokens). */
  readonly baseline?: readonly RunMessage[];
  readonly chunks: readonly ReportChunk[];
  /** The sinks of each stack of the run (the rest of its analysis is in chunks). */
  readonly sinks?: Partial<Record<AttentionStack, readonly SinkInfo[]>>;
}
