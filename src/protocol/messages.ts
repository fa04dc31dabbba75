/**
 * The messages between the extension host and the attention panel (webview). Imported by both sides and
 * by the standalone report, so it uses neither `vscode`, Node nor the DOM.
 *
 * Handshake: the webview posts `ready` with PROTOCOL_VERSION first; the host posts nothing before it.
 * A run streams `run-started`, then one `layer` per attention layer as the engine produces it (its
 * shape only: the weights stay where the run is kept), then `run-finished` or `run-failed`; a
 * generation run streams one `layer` per layer and step, and a `generated-token` after each step's
 * layers. The panel asks for what it draws with `data-request` and gets one `data-reply` each
 * (src/protocol/data.ts). Every run message carries its run id: the panel keeps only the newest run
 * and drops anything older. A `baseline` (after `run-started`) asks the panel to compare that run with
 * a pinned one.
 */

/** Bump when a message changes shape; a webview of another version is told to reload. */
import type { DataQuery, DataReply, WeightOptions } from './data';
import type { AttentionStack, BackendReport, ErrorCode, GeneratedToken, ModelInfo, Timings, TokenizedText } from './run';

export const PROTOCOL_VERSION = 5;

export type { AttentionStack } from './run';

/** A tokenized text and the text itself (the panel merges subwords into words with it; null for ids). */
export interface PanelTokens extends TokenizedText {
  readonly text: string | null;
}

export interface RunStarted {
  readonly type: 'run-started';
  readonly runId: number;
  readonly model: ModelInfo;
  /** Queries and keys of self-attention; keys of cross-attention. */
  readonly source: PanelTokens;
  /** Encoder-decoder runs: the decoder's tokens (queries of cross-attention). */
  readonly target?: PanelTokens;
  readonly backend: BackendReport;
  /**
   * Generation runs: up to this many tokens follow, one per step. Encoder-decoder generation starts its
   * `target` with the decoder start token and grows it by one token per step.
   */
  readonly generation?: { readonly maxNewTokens: number };
}

/** One attention layer has been computed: its shape and mask (its weights are asked for with `data-request`). */
export interface LayerMessage {
  readonly type: 'layer';
  readonly runId: number;
  readonly stack: AttentionStack;
  readonly layer: number;
  /**
   * Generation step (absent otherwise). Step 0: the prompt (decoder-only) or the encoder and the decoder
   * start token; each later step: queryLength 1 and keyLength = the tokens so far.
   */
  readonly step?: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** True where query i may not see key j > i (the mask region is drawn distinctly). */
  readonly causal: boolean;
  /** A sliding window of this many keys: query i sees only keys j with i − window < j (Mistral, Gemma's local layers). */
  readonly window?: number;
}

/** Generation: the token chosen at `step`, sent after that step's layers. */
export interface GeneratedTokenMessage extends GeneratedToken {
  readonly type: 'generated-token';
  readonly runId: number;
}

export interface RunFinished {
  readonly type: 'run-finished';
  readonly runId: number;
  readonly timings: Timings;
}

export interface RunFailed {
  readonly type: 'run-failed';
  readonly runId: number;
  /** The engine's error code (or INTERNAL), for the panel to branch on. */
  readonly code: ErrorCode;
  /** What went wrong and what to do next, shown as is. */
  readonly message: string;
  /** What the host offers to do about it (e.g. truncate and re-run): buttons that post `run-action`. */
  readonly actions?: readonly RunAction[];
}

export interface RunAction {
  readonly id: string;
  readonly title: string;
}

/** The host's one reply to an `export-request`. */
export interface ExportResult {
  readonly type: 'export-result';
  readonly requestId: number;
  /** Where the file was written; null when the user cancelled the save dialog. */
  readonly path: string | null;
  readonly error?: string;
}

/** How the panel combines the active heads: 'none' shows each head on its own. */
export type HeadAggregate = 'none' | 'mean' | 'max';

/** Asks the panel to show one layer (and head, and token) of a stack: the editor hover's "open in panel" link. */
export interface Reveal {
  readonly type: 'reveal';
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly head?: number;
  /** A query-side token index of `stack` to focus. */
  readonly token?: number;
}

/** A run pinned to compare later runs with ("edit the text, re-run, and see which weights changed"). */
export interface Baseline {
  readonly source: PanelTokens;
  readonly target?: PanelTokens;
  readonly model: ModelInfo;
  /** The stacks the baseline has layers of. */
  readonly stacks: readonly AttentionStack[];
}

/** Compare run `runId` with this baseline; null stops comparing. Sent after the run's `run-started`. */
export interface BaselineMessage {
  readonly type: 'baseline';
  readonly runId: number;
  readonly baseline: Baseline | null;
}

/** The one answer to a `data-request` (about the run `runId`); no reply: that data is not there (yet). */
export interface DataReplyMessage {
  readonly type: 'data-reply';
  readonly requestId: number;
  readonly runId: number;
  readonly reply?: DataReply;
}

export type RunMessage = RunStarted | LayerMessage | GeneratedTokenMessage | RunFinished | RunFailed;
/** What a standalone report replays: a run, and the baseline it is compared with. */
export type ReplayMessage = RunMessage | BaselineMessage;
export type ToWebview = ReplayMessage | DataReplyMessage | ExportResult | Reveal;

export interface Ready {
  readonly type: 'ready';
  readonly protocolVersion: number;
}

export type ExportFormat = 'png' | 'svg' | 'json' | 'html';

/** Asks the host to save a file; `html` and `json` carry no content: the host builds them from its run. */
export interface ExportRequest {
  readonly type: 'export-request';
  readonly requestId: number;
  readonly format: ExportFormat;
  readonly fileName: string;
  readonly content?: string | Uint8Array;
  /** `json`: the stack whose matrices are saved. */
  readonly stack?: AttentionStack;
}

/** Asks for the data a view draws, about run `runId`. */
export interface DataRequest {
  readonly type: 'data-request';
  readonly requestId: number;
  readonly runId: number;
  readonly query: DataQuery;
}

/** Something the panel could not handle; the host logs it. */
export interface WebviewError {
  readonly type: 'webview-error';
  readonly message: string;
}

/**
 * The panel's selection, posted whenever it changes, so the editor's hovers and heat overlay follow
 * the layer, heads and token the user is looking at.
 */
export interface SelectionChanged extends WeightOptions {
  readonly type: 'selection-changed';
  readonly stack: AttentionStack;
  readonly layer: number;
  /** The active heads. */
  readonly heads: readonly number[];
  readonly aggregate: HeadAggregate;
  /** `index` is a model token index (not a merged display token) of the stack's query or key tokens. */
  readonly focus: { readonly side: 'query' | 'key'; readonly index: number; readonly locked: boolean } | null;
}

/** The user chose one of a failed run's `actions` in the panel. */
export interface RunActionChosen {
  readonly type: 'run-action';
  readonly runId: number;
  readonly action: string;
}

/**
 * What the panel has drawn of run `runId`: how many layers its header counts, and whether the current
 * view shows data (not a placeholder). Posted when either changes; the host times delivery with it.
 */
export interface PanelShown {
  readonly type: 'panel-shown';
  readonly runId: number;
  readonly layers: number;
  readonly viewReady: boolean;
}

export type FromWebview = Ready | DataRequest | ExportRequest | WebviewError | SelectionChanged | RunActionChosen | PanelShown;
