/**
 * The messages between the extension host and the attention panel (webview). Imported by both sides and
 * by the standalone report, so it uses neither `vscode`, Node nor the DOM.
 *
 * Handshake: the webview posts `ready` with PROTOCOL_VERSION first; the host posts nothing before it.
 * A run streams `run-started`, then one `layer` per attention layer as the engine produces it, then
 * `run-finished` or `run-failed`; a generation run streams one `layer` per layer and step, and a
 * `generated-token` after each step's layers. Every run message carries its run id: the panel keeps
 * only the newest run and drops anything older. A `baseline` (after `run-started`) asks the panel to
 * compare that run with a pinned one. Matrices travel as Float32Array (structured clone), never as
 * JSON lists.
 */

/** Bump when a message changes shape; a webview of another version is told to reload. */
import type { AttentionStack, BackendReport, ErrorCode, GeneratedToken, ModelInfo, Timings, TokenizedText } from './run';

export const PROTOCOL_VERSION = 2;

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

/** One attention layer, streamed as soon as the engine has it. Shapes as in the engine's AttentionEvent. */
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
  /** [numHeads, queryLength, keyLength]. */
  readonly probs: Float32Array;
  /** Optional step-by-step data: pre-softmax scores (masked with -Infinity), same shape as probs. */
  readonly scores?: Float32Array;
  /** [queryLength, numHeads · headDim], head-major. */
  readonly q?: Float32Array;
  /** [keyLength, numKvHeads · headDim]; query head h reads kv head floor(h / (numHeads / numKvHeads)). */
  readonly k?: Float32Array;
  readonly v?: Float32Array;
  /** [queryLength, numHeads · headDim]: each head's P·V, the concatenation W_O multiplies. */
  readonly headOutputs?: Float32Array;
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

/** One attention layer of a pinned baseline run: only its weights. */
export interface BaselineLayer {
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly numHeads: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** [numHeads, queryLength, keyLength]. */
  readonly probs: Float32Array;
}

/** A run pinned to compare later runs with ("edit the text, re-run, and see which weights changed"). */
export interface Baseline {
  readonly source: PanelTokens;
  readonly target?: PanelTokens;
  readonly model: ModelInfo;
  readonly layers: readonly BaselineLayer[];
}

/** Compare run `runId` with this baseline; null stops comparing. Sent after the run's `run-started`. */
export interface BaselineMessage {
  readonly type: 'baseline';
  readonly runId: number;
  readonly baseline: Baseline | null;
}

export type RunMessage = RunStarted | LayerMessage | GeneratedTokenMessage | RunFinished | RunFailed;
/** What a standalone report replays: a run, and the baseline it is compared with. */
export type ReplayMessage = RunMessage | BaselineMessage;
export type ToWebview = ReplayMessage | ExportResult | Reveal;

export interface Ready {
  readonly type: 'ready';
  readonly protocolVersion: number;
}

export type ExportFormat = 'png' | 'svg' | 'json' | 'html';

/** Asks the host to save a file; `html` carries no content: the host builds the report from its run. */
export interface ExportRequest {
  readonly type: 'export-request';
  readonly requestId: number;
  readonly format: ExportFormat;
  readonly fileName: string;
  readonly content?: string | Uint8Array;
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
export interface SelectionChanged {
  readonly type: 'selection-changed';
  readonly stack: AttentionStack;
  readonly layer: number;
  /** The active heads. */
  readonly heads: readonly number[];
  readonly aggregate: HeadAggregate;
  /** `index` is a model token index (not a merged display token) of the stack's query or key tokens. */
  readonly focus: { readonly side: 'query' | 'key'; readonly index: number; readonly locked: boolean } | null;
}

export type FromWebview = Ready | ExportRequest | WebviewError | SelectionChanged;
