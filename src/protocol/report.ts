/**
 * What a standalone HTML report carries, written by src/report and read by the panel's report page:
 * the run's messages as JSON (shapes and tokens, no weights), and each layer's weights in a chunk of
 * its own — float16, rows packed (src/protocol/packing.ts), raw-deflated, base64 — so the page decodes
 * only the layers a view draws, and no string ever holds the whole run.
 */
import type { ReplayMessage, RunMessage } from './messages';

/** The <script type="application/json"> element that holds ReportData. */
export const REPORT_DATA_ID = 'attention-data';

export const REPORT_VERSION = 3;

/**
 * One layer message's data (one generation step of a layer, for a generation run): its weights, or
 * (short runs) what the step-by-step view needs: the scores, q, k, v and head outputs.
 */
export interface ReportChunk {
  /** The run the layer belongs to. */
  readonly part: 'run' | 'baseline';
  /** layerKey() of the layer message. */
  readonly key: string;
  readonly content: 'probs' | 'steps';
  /** The id of the <script type="application/octet-stream"> element with the base64 text. */
  readonly element: string;
  /**
   * probs: float16 little-endian bits of the packed rows; steps: float32 scores [H, Tq, Tk], q, k, v,
   * head outputs, one after the other. Both raw-deflated.
   */
  readonly encoding: 'f16-deflate-raw' | 'f32-deflate-raw';
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
}
